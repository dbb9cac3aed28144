import { GridlineError } from '../common/errors.js';
import { KeyTable, type Caller, type KeyEntry } from '../common/auth/key-table.js';
import type { Scope } from '../common/auth/scopes.js';

/**
 * What the gateway checks callers against: the coordinator's API keys (hashes only) and the
 * service token it presents to workers. Both arrive over the routes watch (or straight from the
 * coordinator when both run in one process) and are replaced whole on every change; until the
 * first arrives every call is refused as UNAVAILABLE, never let through.
 */
export class GatewayAccess {
  private readonly table = new KeyTable();
  private token: string | null = null;

  apply(keys: readonly KeyEntry[], serviceToken: string): void {
    this.table.replace(keys);
    this.token = serviceToken === '' ? null : serviceToken;
  }

  get loaded(): boolean {
    return this.token !== null;
  }

  verify(authorization: string | undefined, scope: Scope): Caller {
    if (!this.loaded) throw new GridlineError('UNAVAILABLE', 'the gateway has not received the API keys from the coordinator yet', { retryable: true });
    return this.table.verify(authorization, scope);
  }

  /** The `authorization` value for calls to workers' model servers. */
  serviceAuthorization(): string | null {
    return this.token === null ? null : `Bearer ${this.token}`;
  }
}

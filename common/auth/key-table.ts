import { GridlineError } from '../errors.js';
import { hasScope, type Scope } from './scopes.js';
import { bearerToken, hashMatches, hashToken, tokenId, tokenMatches } from './secret-token.js';

/** An API key as verifiers see it: never the key itself, only its hash. */
export interface KeyEntry {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** SHA-256 hex of the whole key. */
  readonly hash: string;
  /** Epoch ms; null: does not expire. */
  readonly expiresAt: number | null;
}

/** Who made a request, once verified. */
export interface Caller {
  readonly keyId: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
}

/** The id static keys (an operator's --admin-key) go by; generated ids are 12 hex digits. */
export const STATIC_KEY_ID = 'static';

/**
 * The keys a server accepts, checked locally on every request. The coordinator builds it from
 * its store; a gateway gets it over the routes watch, so a revoked key stops working everywhere
 * within one publish, and a gateway keeps checking while the coordinator is away.
 */
export class KeyTable {
  private byId = new Map<string, KeyEntry>();
  private staticEntries: KeyEntry[] = [];

  constructor(entries: readonly KeyEntry[] = []) {
    this.replace(entries);
  }

  replace(entries: readonly KeyEntry[]): void {
    this.byId = new Map(entries.filter((e) => e.id !== STATIC_KEY_ID).map((e) => [e.id, e]));
    this.staticEntries = entries.filter((e) => e.id === STATIC_KEY_ID);
  }

  entries(): KeyEntry[] {
    return [...this.staticEntries, ...this.byId.values()];
  }

  /**
   * The caller an `Authorization` header proves, if it grants `scope`. UNAUTHENTICATED for a
   * missing, malformed, unknown, revoked or expired key; PERMISSION_DENIED for a good key
   * without the scope. Messages never echo the key.
   */
  verify(authorization: string | undefined | null, scope: Scope, now = Date.now()): Caller {
    const token = bearerToken(authorization);
    if (token === null) {
      throw new GridlineError('UNAUTHENTICATED', authorization ? 'the Authorization header is not "Bearer <api key>"' : 'this endpoint needs an API key: send "Authorization: Bearer <key>" (create one with `gridline key create`)');
    }
    const entry = this.find(token);
    if (entry === null) throw new GridlineError('UNAUTHENTICATED', 'the API key is not valid (unknown or revoked)');
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      throw new GridlineError('UNAUTHENTICATED', `the API key ${entry.id} (${entry.name}) expired at ${new Date(entry.expiresAt).toISOString()}`);
    }
    if (!hasScope(entry.scopes, scope)) {
      throw new GridlineError('PERMISSION_DENIED', `the API key ${entry.id} (${entry.name}) lacks the "${scope}" scope (it has: ${entry.scopes.join(', ') || 'none'})`, {
        details: { needed: scope, granted: entry.scopes },
      });
    }
    return { keyId: entry.id, name: entry.name, scopes: entry.scopes };
  }

  private find(token: string): KeyEntry | null {
    const id = tokenId('glk', token);
    if (id !== null) {
      const entry = this.byId.get(id);
      return entry !== undefined && tokenMatches(token, entry.hash) ? entry : null;
    }
    // Static keys have no id inside; there are one or two of them.
    const hash = hashToken(token);
    return this.staticEntries.find((e) => hashMatches(hash, e.hash)) ?? null;
  }
}

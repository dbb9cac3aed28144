import { randomBytes } from 'node:crypto';
import { GridlineError } from '../../common/errors.js';
import { KeyTable, STATIC_KEY_ID, type Caller, type KeyEntry } from '../../common/auth/key-table.js';
import { isScope, SCOPES, type Scope } from '../../common/auth/scopes.js';
import { hashToken, newToken, tokenId, tokenMatches } from '../../common/auth/secret-token.js';
import type { AccessStore, CredentialKind, StoredCredential } from './access-store.js';
import { RecordSeal } from './record-seal.js';

export interface AccessSettings {
  /** An operator-provided admin key (--admin-key / GRIDLINE_ADMIN_KEY); null: none. */
  readonly staticAdminKey: string | null;
  /** An operator-provided join token without expiry (--join-token); null: none. */
  readonly staticJoinToken: string | null;
}

export type CredentialState = 'active' | 'expired' | 'revoked';

/** What list and create return: everything but the hash. */
export interface CredentialView {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly state: CredentialState;
}

export interface NewCredentialRequest {
  readonly name: string;
  readonly scopes?: readonly string[];
  /** null: never expires. */
  readonly ttlMs: number | null;
}

/**
 * Static secrets are compared by hash, and gateways get the hash of a static admin key: it must
 * be long enough that the hash cannot be brute-forced (32 characters of a generated secret).
 */
const MIN_STATIC_SECRET = 32;
/** How long expired and revoked keys and tokens stay listed (and refused with their reason). */
const KEEP_ENDED_MS = 7 * 24 * 3600 * 1000;
/** Ten years: longer is "never" (null), and Date cannot hold much more. */
const MAX_TTL_MS = 10 * 365 * 24 * 3600 * 1000;
const NAME = /^[\w .@:/-]{1,64}$/;

/**
 * The coordinator's credentials: API keys with scopes, join tokens with expiry, revoked nodes
 * and the service token gateways present to workers. The store is the truth; this keeps a copy
 * so every request is checked without a Redis round trip, and tells subscribers (the routes
 * watch to gateways) when the key table changes.
 */
export class AccessControl {
  private readonly table = new KeyTable();
  private credentials: Record<CredentialKind, Map<string, StoredCredential>> = { 'api-key': new Map(), 'join-token': new Map() };
  private revoked = new Set<string>();
  private service = '';
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly store: AccessStore,
    private readonly settings: AccessSettings,
    private readonly now: () => number = Date.now,
    private readonly seal: RecordSeal = new RecordSeal(null),
  ) {
    for (const [what, secret] of [['admin key', settings.staticAdminKey], ['join token', settings.staticJoinToken]] as const) {
      if (secret !== null && secret.length < MIN_STATIC_SECRET) {
        throw new GridlineError('INVALID_ARGUMENT', `the static ${what} must be at least ${MIN_STATIC_SECRET} characters (got ${secret.length})`);
      }
    }
  }

  /**
   * Reads the store. Records whose seal does not match (written by someone without the
   * coordinator's secret) are left out and named in the answer, for the caller to log.
   */
  async load(): Promise<{ readonly ignored: readonly string[] }> {
    const ignored: string[] = [];
    for (const kind of ['api-key', 'join-token'] as const) {
      // Entries expired or revoked over a week ago are dropped: each coordinator start makes a
      // join token, and a list should not grow for ever.
      const all = await this.store.list(kind);
      const stale = all.filter((c) => this.endedBefore(c, this.now() - KEEP_ENDED_MS)).map((c) => c.id);
      await this.store.remove(kind, stale);
      const sound = all.filter((c) => !stale.includes(c.id)).filter((c) => {
        const ok = this.seal.verify(kind, c.id, sealed(c), c.mac);
        if (!ok) ignored.push(`${kind} ${c.id}`);
        return ok;
      });
      this.credentials[kind] = new Map(sound.map((c) => [c.id, c]));
    }
    this.revoked = new Set();
    for (const [nodeId, mac] of await this.store.revokedNodes()) {
      if (this.seal.verify('revoked-node', nodeId, nodeId, mac)) this.revoked.add(nodeId);
      else ignored.push(`revoked-node ${nodeId}`);
    }
    this.service = await this.store.serviceToken(`gls_${randomBytes(32).toString('base64url')}`);
    this.rebuild();
    return { ignored };
  }

  /** The coordinator's seal, for other records it keeps in Redis (node credentials). */
  get recordSeal(): RecordSeal {
    return this.seal;
  }

  /** The caller of an `Authorization` header value, if it may use `scope` (else throws). */
  verify(authorization: string | undefined | null, scope: Scope): Caller {
    return this.table.verify(authorization, scope, this.now());
  }

  /** The active keys as verifiers elsewhere (gateways) need them. */
  keyEntries(): KeyEntry[] {
    return this.table.entries();
  }

  /** The secret gateways present to workers' model servers (and nodes learn on registering). */
  serviceToken(): string {
    return this.service;
  }

  /** Called after every change of the key table; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(kind: CredentialKind): CredentialView[] {
    return [...this.credentials[kind].values()].map((c) => this.view(c)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async create(kind: CredentialKind, request: NewCredentialRequest): Promise<{ credential: CredentialView; token: string }> {
    if (!NAME.test(request.name)) throw new GridlineError('INVALID_ARGUMENT', `name "${request.name}" must be 1-64 letters, digits, spaces or . _ @ : / -`);
    let scopes: Scope[] = [];
    if (kind === 'api-key') {
      const asked = request.scopes ?? [];
      const unknown = asked.filter((s) => !isScope(s));
      if (unknown.length > 0 || asked.length === 0) {
        throw new GridlineError('INVALID_ARGUMENT', `${unknown.length > 0 ? `unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}` : 'an API key needs at least one scope'}: choose from ${SCOPES.join(', ')}`);
      }
      scopes = [...new Set(asked as Scope[])];
    }
    if (request.ttlMs !== null && !(Number.isSafeInteger(request.ttlMs) && request.ttlMs > 0 && request.ttlMs <= MAX_TTL_MS)) {
      throw new GridlineError('INVALID_ARGUMENT', `ttl must be a positive duration of at most ten years (or never), got ${request.ttlMs} ms`);
    }
    const fresh = newToken(kind === 'api-key' ? 'glk' : 'glj');
    const now = this.now();
    const credential = this.sealRecord(kind, {
      id: fresh.id, name: request.name, scopes, hash: fresh.hash,
      createdAt: new Date(now).toISOString(),
      expiresAt: request.ttlMs === null ? null : new Date(now + request.ttlMs).toISOString(),
      revokedAt: null,
    });
    await this.store.put(kind, credential);
    this.credentials[kind].set(credential.id, credential);
    this.rebuild();
    return { credential: this.view(credential), token: fresh.token };
  }

  async revoke(kind: CredentialKind, id: string): Promise<CredentialView> {
    const existing = this.credentials[kind].get(id);
    if (existing === undefined) {
      throw new GridlineError('NOT_FOUND', `no ${kind === 'api-key' ? 'API key' : 'join token'} with id ${id}: see \`gridline ${kind === 'api-key' ? 'key' : 'token'} list\``);
    }
    if (existing.revokedAt !== null) return this.view(existing);
    const revoked = this.sealRecord(kind, { ...existing, revokedAt: new Date(this.now()).toISOString() });
    await this.store.put(kind, revoked);
    this.credentials[kind].set(id, revoked);
    this.rebuild();
    return this.view(revoked);
  }

  /** Throws UNAUTHENTICATED with the reason unless `token` is an active join token. */
  checkJoinToken(token: string): void {
    if (token === '') throw new GridlineError('UNAUTHENTICATED', 'no join token: pass --join-token (create one with `gridline token create`)');
    const id = tokenId('glj', token);
    const stored = id === null ? undefined : this.credentials['join-token'].get(id);
    if (stored !== undefined && tokenMatches(token, stored.hash)) {
      const state = this.view(stored).state;
      if (state === 'active') return;
      throw new GridlineError('UNAUTHENTICATED', `join token ${stored.id} ${state === 'revoked' ? `was revoked at ${stored.revokedAt ?? ''}` : `expired at ${stored.expiresAt ?? ''}`}: create a new one with \`gridline token create\``);
    }
    const fixed = this.settings.staticJoinToken;
    if (fixed !== null && tokenMatches(token, hashToken(fixed))) return;
    throw new GridlineError('UNAUTHENTICATED', 'invalid join token: create one with `gridline token create` (`gridline up` prints one)');
  }

  isNodeRevoked(nodeId: string): boolean {
    return this.revoked.has(nodeId);
  }

  /**
   * Revokes a node id and replaces the service token it knew, so it cannot call model servers
   * either; subscribers (gateways' watches) get the new token at once, nodes over their streams.
   */
  async revokeNode(nodeId: string): Promise<void> {
    await this.store.revokeNode(nodeId, this.seal.mac('revoked-node', nodeId, nodeId));
    this.revoked.add(nodeId);
    this.service = `gls_${randomBytes(32).toString('base64url')}`;
    await this.store.replaceServiceToken(this.service);
    this.rebuild();
  }

  private endedBefore(c: StoredCredential, t: number): boolean {
    const ended = c.revokedAt ?? c.expiresAt;
    return ended !== null && Date.parse(ended) < t;
  }

  private sealRecord(kind: CredentialKind, record: StoredCredential): StoredCredential {
    return { ...record, mac: this.seal.mac(kind, record.id, sealed(record)) };
  }

  private view(c: StoredCredential): CredentialView {
    const { hash: _hash, mac: _mac, ...rest } = c;
    const state: CredentialState = c.revokedAt !== null ? 'revoked' : c.expiresAt !== null && Date.parse(c.expiresAt) <= this.now() ? 'expired' : 'active';
    return { ...rest, state };
  }

  private rebuild(): void {
    const entries: KeyEntry[] = [];
    if (this.settings.staticAdminKey !== null) {
      entries.push({ id: STATIC_KEY_ID, name: 'static admin key', scopes: ['admin'], hash: hashToken(this.settings.staticAdminKey), expiresAt: null });
    }
    for (const c of this.credentials['api-key'].values()) {
      if (c.revokedAt !== null) continue;
      entries.push({ id: c.id, name: c.name, scopes: c.scopes, hash: c.hash, expiresAt: c.expiresAt === null ? null : Date.parse(c.expiresAt) });
    }
    this.table.replace(entries);
    for (const listener of this.listeners) listener();
  }
}

/** What a credential's MAC covers: every field but the MAC, in a fixed order. */
function sealed(c: StoredCredential): string {
  return JSON.stringify([c.id, c.name, c.scopes, c.hash, c.createdAt, c.expiresAt, c.revokedAt]);
}

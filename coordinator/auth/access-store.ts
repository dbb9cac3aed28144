import type { Redis } from 'ioredis';
import type { Scope } from '../../common/auth/scopes.js';

/** An API key or join token as stored: the SHA-256 of the secret, never the secret. */
export interface StoredCredential {
  readonly id: string;
  readonly name: string;
  /** API keys only; join tokens have none. */
  readonly scopes: readonly Scope[];
  readonly hash: string;
  readonly createdAt: string;
  /** ISO time; null: never. */
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  /** HMAC of the fields above under the coordinator's secret (auth/record-seal.ts). */
  readonly mac?: string;
}

export type CredentialKind = 'api-key' | 'join-token';

/**
 * Durable credentials: API keys, join tokens, revoked node ids and the cluster's service token
 * (what gateways present to workers' model servers). Kept apart from CoordinatorStore so the
 * security state has one small surface.
 */
export interface AccessStore {
  list(kind: CredentialKind): Promise<StoredCredential[]>;
  put(kind: CredentialKind, credential: StoredCredential): Promise<void>;
  remove(kind: CredentialKind, ids: readonly string[]): Promise<void>;
  /** Returns the stored service token, storing `candidate` first if there is none. */
  serviceToken(candidate: string): Promise<string>;
  replaceServiceToken(token: string): Promise<void>;
  /** Revoked node id -> its MAC. */
  revokedNodes(): Promise<Map<string, string>>;
  revokeNode(nodeId: string, mac: string): Promise<void>;
}

export function redisAccessStore(redis: Redis, prefix: string): AccessStore {
  const hashKey = (kind: CredentialKind): string => `${prefix}:${kind === 'api-key' ? 'api-keys' : 'join-tokens'}`;
  return {
    async list(kind) {
      return Object.values(await redis.hgetall(hashKey(kind))).map((v) => JSON.parse(v) as StoredCredential);
    },
    async put(kind, credential) {
      await redis.hset(hashKey(kind), credential.id, JSON.stringify(credential));
    },
    async remove(kind, ids) {
      if (ids.length > 0) await redis.hdel(hashKey(kind), ...ids);
    },
    async serviceToken(candidate) {
      await redis.set(`${prefix}:service-token`, candidate, 'NX');
      return (await redis.get(`${prefix}:service-token`)) ?? candidate;
    },
    async replaceServiceToken(token) {
      await redis.set(`${prefix}:service-token`, token);
    },
    async revokedNodes() {
      return new Map(Object.entries(await redis.hgetall(`${prefix}:revoked-nodes`)));
    },
    async revokeNode(nodeId, mac) {
      await redis.hset(`${prefix}:revoked-nodes`, nodeId, mac);
    },
  };
}

/** The same in memory, for unit tests of whatever sits on top. */
export function memoryAccessStore(): AccessStore {
  const tables = { 'api-key': new Map<string, StoredCredential>(), 'join-token': new Map<string, StoredCredential>() };
  const revoked = new Map<string, string>();
  let service: string | null = null;
  return {
    list: async (kind) => [...tables[kind].values()],
    put: async (kind, credential) => {
      tables[kind].set(credential.id, credential);
    },
    remove: async (kind, ids) => {
      for (const id of ids) tables[kind].delete(id);
    },
    serviceToken: async (candidate) => (service ??= candidate),
    replaceServiceToken: async (token) => {
      service = token;
    },
    revokedNodes: async () => new Map(revoked),
    revokeNode: async (nodeId, mac) => {
      revoked.set(nodeId, mac);
    },
  };
}

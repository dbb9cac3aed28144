import type { Redis } from 'ioredis';
import { GridlineError } from '../../common/errors.js';

/**
 * Claim-check storage for item fields too large to ride inside a queue job. Bytes are stored
 * once, raw (never as JSON numbers), and deleted with their run; the TTL is a backstop for runs
 * whose cleanup never happened.
 */
export interface BlobStore {
  putMany(entries: readonly (readonly [key: string, value: Uint8Array])[]): Promise<void>;
  get(key: string): Promise<Buffer>;
  deleteRun(pattern: string): Promise<number>;
}

const DEFAULT_TTL_S = 7 * 24 * 3600;

export function redisBlobStore(redis: Redis, ttlSeconds = DEFAULT_TTL_S): BlobStore {
  return {
    async putMany(entries) {
      if (entries.length === 0) return;
      const pipeline = redis.pipeline();
      for (const [key, value] of entries) pipeline.set(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength), 'EX', ttlSeconds);
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err !== null);
      if (failed) throw new GridlineError('UNAVAILABLE', `storing blobs failed: ${String(failed[0])}`, { retryable: true });
    },
    async get(key) {
      const value = await redis.getBuffer(key);
      if (value === null) {
        throw new GridlineError('INVALID_ITEM', `blob ${key} is missing (expired, or its run was cleaned up)`);
      }
      return value;
    },
    async deleteRun(pattern) {
      let cursor = '0';
      let removed = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) removed += await redis.unlink(...keys);
      } while (cursor !== '0');
      return removed;
    },
  };
}

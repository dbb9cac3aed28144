import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { acquireSinkWriterLease } from './sink-writer-lease.js';

describe('the results-file writer lease', () => {
  let redis: Redis;
  const key = `gltest-lease-${randomBytes(4).toString('hex')}:writer`;

  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    await redis.del(key);
    redis.disconnect();
  });

  it('lets a second writer in only once the first releases, and tells a writer that lost it', async () => {
    const first = await acquireSinkWriterLease(redis, key, silentLogger);
    let secondIn = false;
    const second = acquireSinkWriterLease(redis, key, silentLogger).then((lease) => {
      secondIn = true;
      return lease;
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(secondIn).toBe(false);
    first.check();
    await first.release();
    const lease = await second;
    expect(secondIn).toBe(true);
    lease.check();
    await lease.release();
    expect(await redis.exists(key)).toBe(0);
  });

  it('gives up waiting when stopped', async () => {
    const holder = await acquireSinkWriterLease(redis, key, silentLogger);
    const abort = new AbortController();
    const waiting = acquireSinkWriterLease(redis, key, silentLogger, abort.signal);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    await holder.release();
  });
});

import { Redis, type RedisOptions } from 'ioredis';

/**
 * The one place that creates ioredis connections for the data plane. BullMQ requires
 * `maxRetriesPerRequest: null` on connections it blocks on; commands then wait for a
 * reconnect instead of failing, which is what a worker wants when Redis restarts.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options });
}

export type { Redis };

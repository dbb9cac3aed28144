import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';

const LEASE_MS = 15_000;
const RENEW_MS = 5_000;
const WAIT_MS = 250;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface SinkWriterLease {
  /** Throws a retryable UNAVAILABLE when the lease was lost (another writer holds the file now). */
  check(): void;
  release(): Promise<void>;
}

/**
 * One writer per results file at a time. A sink replica that moves (a drained node, a node
 * thought lost that is still alive) would otherwise append, and trim a "partial" last line,
 * while the old one still finishes its chunks. The new writer waits until the old one releases
 * the lease (its drain ended) or the lease expires (it died), then recovers the file.
 */
export async function acquireSinkWriterLease(redis: Redis, key: string, logger: Logger, signal?: AbortSignal): Promise<SinkWriterLease> {
  const token = randomBytes(8).toString('hex');
  let waited = false;
  for (;;) {
    if (signal?.aborted === true) throw new GridlineError('CANCELLED', 'stopped while waiting for the results file');
    if ((await redis.set(key, token, 'PX', LEASE_MS, 'NX')) === 'OK') break;
    if (!waited) logger.info({ lease: key }, 'another sink replica still writes the results file: waiting for it to finish');
    waited = true;
    await new Promise((r) => setTimeout(r, WAIT_MS));
  }
  let lost = false;
  const timer = setInterval(() => {
    redis.eval(RENEW, 1, key, token, LEASE_MS).then((ok) => {
      if (ok === 0 && !lost) {
        lost = true;
        logger.error({ lease: key }, 'lost the results-file lease: another sink replica writes now');
      }
    }, (err: unknown) => logger.warn({ err: (err as Error).message }, 'renewing the results-file lease failed; will retry'));
  }, RENEW_MS);
  timer.unref();
  return {
    check() {
      if (lost) throw new GridlineError('UNAVAILABLE', 'this sink replica lost the results file to another one', { retryable: true });
    },
    async release() {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    },
  };
}

import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeySpace } from '../../common/keys.js';
import type { SourceJob } from '../../common/job-payload.js';

/**
 * The coordinator's only contact with the stage queues: it starts a run by putting one job on
 * the source queue and removes a finished run's queues and blobs. It never touches items.
 */
/** How long a finished run's counters and errors are kept. */
const RESULT_TTL_S = 7 * 24 * 3600;

export interface RunQueues {
  startSource(runId: string, queue: string): Promise<void>;
  cleanup(runId: string, queues: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export function bullmqRunQueues(redis: Redis, keys: KeySpace): RunQueues {
  return {
    async startSource(runId, queue) {
      const q = new Queue(queue, { connection: redis, prefix: keys.queuePrefix });
      // Connection errors are the shared connection's to report (coordinator.ts logs them).
      q.on('error', () => undefined);
      try {
        const job: SourceJob = { runId, chunkId: 'source', items: [] };
        // Fixed job id: submitting twice (or a restarted coordinator redoing it) adds nothing.
        await q.add('source', job, { jobId: 'source', attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: false });
      } finally {
        await q.close();
      }
    },
    async cleanup(runId, queues) {
      for (const name of queues) {
        const q = new Queue(name, { connection: redis, prefix: keys.queuePrefix });
        q.on('error', () => undefined);
        try {
          await q.obliterate({ force: true });
        } finally {
          await q.close();
        }
      }
      await scanUnlink(redis, keys.blobPattern(runId));
      await scanUnlink(redis, `${keys.prefix}:run:{${runId}}:counted:*`);
      await redis.unlink(keys.runSinkWritten(runId));
      // Counters, errors and dead letters stay readable (and replayable) for a week, then go.
      await redis.multi().expire(keys.runCounters(runId), RESULT_TTL_S).expire(keys.runErrors(runId), RESULT_TTL_S)
        .expire(keys.runDeadLetters(runId), RESULT_TTL_S).exec();
    },
    async close() {},
  };
}

async function scanUnlink(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (found.length > 0) await redis.unlink(...found);
  } while (cursor !== '0');
}

import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The only file that imports bullmq. Stage code sees three small interfaces: a producer that adds
 * chunk jobs with deterministic ids, a consumer that processes them, and `nonRetryable` to mark
 * an error that must not be retried.
 */
export interface JobOptions {
  readonly jobId: string;
  readonly attempts: number;
  readonly backoffMs: number;
}

export interface StageProducer {
  add(data: unknown, options: JobOptions): Promise<void>;
  close(): Promise<void>;
}

export interface JobContext<T> {
  readonly data: T;
  readonly id: string;
  /** 1 on the first try. */
  readonly attempt: number;
  readonly maxAttempts: number;
}

export interface StageConsumer {
  /** Stop taking jobs; with `drain`, finish the ones in hand first. */
  close(drain: boolean): Promise<void>;
  readonly running: boolean;
}

export interface ConsumerOptions {
  readonly concurrency: number;
  /** How long a job's lock lasts without renewal; a crashed worker's jobs come back after it. */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
}

export function createProducer(connection: Redis, prefix: string, queue: string): StageProducer {
  const q = new Queue(queue, { connection, prefix });
  return {
    async add(data, options) {
      await q.add('chunk', data, {
        jobId: options.jobId,
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoffMs },
        // Keep finished jobs until the run is cleaned up, so a re-added chunk id dedupes.
        removeOnComplete: false,
        removeOnFail: false,
      });
    },
    close: () => q.close(),
  };
}

export function createConsumer<T>(
  connection: Redis,
  prefix: string,
  queue: string,
  handler: (job: JobContext<T>) => Promise<void>,
  options: ConsumerOptions,
): StageConsumer {
  // A blocking consumer needs its own connection; duplicate() keeps the same settings.
  const blocking = connection.duplicate();
  const worker = new Worker(
    queue,
    async (job: Job) => {
      await handler({
        data: job.data as T,
        id: job.id ?? '',
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? 1,
      });
    },
    {
      connection: blocking,
      prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 15_000,
      maxStalledCount: 2,
    },
  );
  // Errors here are connection hiccups; the worker reconnects by itself. Log-worthy, not fatal.
  worker.on('error', () => undefined);
  let running = true;
  return {
    get running() {
      return running;
    },
    async close(drain) {
      running = false;
      await worker.close(!drain);
      blocking.disconnect();
    },
  };
}

/** Marks an error as final: BullMQ moves the job to failed without further attempts. */
export function nonRetryable(message: string): Error {
  return new UnrecoverableError(message);
}

/** Removes a finished run's queue and all its jobs. */
export async function removeQueue(connection: Redis, prefix: string, queue: string): Promise<void> {
  const q = new Queue(queue, { connection, prefix });
  try {
    await q.obliterate({ force: true });
  } finally {
    await q.close();
  }
}

/** Jobs waiting, active and delayed on a queue. */
export async function queueDepth(connection: Redis, prefix: string, queue: string): Promise<Record<string, number>> {
  const q = new Queue(queue, { connection, prefix });
  try {
    return await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  } finally {
    await q.close();
  }
}

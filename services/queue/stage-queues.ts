import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The only file that imports bullmq. Stage code sees three small interfaces: a producer that adds
 * chunk jobs with deterministic ids, a consumer that processes them, and `nonRetryable` to mark
 * an error that must not be retried.
 */
/** How long a chunk's lock lasts without renewal (defaults; see createConsumer). */
export const STALL_LOCK_MS = 15_000;

/**
 * A Queue handle whose connection errors are left to the shared connection's own listener
 * (redis-connection.ts logs them once): without a listener BullMQ prints each reconnect attempt
 * with console.error, multi-line, into the JSON logs.
 */
function queueOn(connection: Redis, prefix: string, name: string): Queue {
  const q = new Queue(name, { connection, prefix });
  q.on('error', () => undefined);
  return q;
}
export const STALL_CHECK_MS = 5_000;

export interface JobOptions {
  readonly jobId: string;
  readonly attempts: number;
  readonly backoffMs: number;
}

export interface StageProducer {
  add(data: unknown, options: JobOptions): Promise<void>;
  /** The data of the job with this id, if the queue holds it (finished jobs are kept per run). */
  get(jobId: string): Promise<unknown>;
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
  /** Jobs of the queue that failed for good (up to `limit`), with BullMQ's reason. */
  failedJobs(limit: number): Promise<{ job: JobContext<unknown>; reason: string }[]>;
}

export interface ConsumerOptions {
  readonly concurrency: number;
  /**
   * Called once a job has failed for good (attempts used up, or a non-retryable error), so the
   * caller can count its items as failed: otherwise a run would wait for them forever.
   */
  readonly onFinalFailure?: (job: JobContext<unknown>, error: Error) => Promise<void>;
  /** Connection-level problems BullMQ reports (it reconnects by itself). */
  readonly onError?: (error: Error) => void;
  /** How long a job's lock lasts without renewal; a crashed worker's jobs come back after it. */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
}

export function createProducer(connection: Redis, prefix: string, queue: string): StageProducer {
  const q = queueOn(connection, prefix, queue);
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
    async get(jobId) {
      return (await q.getJob(jobId))?.data as unknown;
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
  // BullMQ uses the shared connection for commands and makes (and closes) its own blocking one.
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
      connection,
      prefix,
      concurrency: options.concurrency,
      // Stalled-chunk recovery: a worker renews its chunks' locks every lockDuration/2; when it
      // dies, another worker's stall check (every stalledInterval) finds the lock expired and
      // puts the chunk back, so a killed node's chunks run elsewhere within ~20 s. Models run in
      // worker threads, so a long batch never blocks renewal on the main thread; a false stall
      // would only run a chunk twice, which ids and the idempotent counters and sink absorb.
      // A chunk stalled more than twice (it kills whoever takes it) fails for good: dead letters.
      lockDuration: options.lockDurationMs ?? STALL_LOCK_MS,
      stalledInterval: options.stalledIntervalMs ?? STALL_CHECK_MS,
      maxStalledCount: 2,
    },
  );
  worker.on('error', (err) => options.onError?.(err));
  worker.on('failed', (job, err) => {
    // finishedOn is set only when the job moved to `failed`, not when it was scheduled for a retry.
    if (!job || !job.finishedOn || !options.onFinalFailure) return;
    const ctx: JobContext<unknown> = { data: job.data as unknown, id: job.id ?? '', attempt: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1 };
    options.onFinalFailure(ctx, err).catch((e: unknown) => options.onError?.(e as Error));
  });
  let running = true;
  let inspector: Queue | null = null;
  return {
    get running() {
      return running;
    },
    async close(drain) {
      running = false;
      await worker.close(!drain);
      await inspector?.close();
    },
    async failedJobs(limit) {
      inspector ??= queueOn(connection, prefix, queue);
      const jobs = await inspector.getFailed(0, Math.max(0, limit - 1));
      return jobs.map((job) => ({
        job: { data: job.data as unknown, id: job.id ?? '', attempt: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1 },
        reason: job.failedReason || 'failed',
      }));
    },
  };
}

/** Marks an error as final: BullMQ moves the job to failed without further attempts. */
export function nonRetryable(message: string): Error {
  return new UnrecoverableError(message);
}

/** Removes a finished run's queue and all its jobs. */
export async function removeQueue(connection: Redis, prefix: string, queue: string): Promise<void> {
  const q = queueOn(connection, prefix, queue);
  try {
    await q.obliterate({ force: true });
  } finally {
    await q.close();
  }
}

/** Jobs waiting, active and delayed on a queue. */
export async function queueDepth(connection: Redis, prefix: string, queue: string): Promise<Record<string, number>> {
  const q = queueOn(connection, prefix, queue);
  try {
    return await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  } finally {
    await q.close();
  }
}

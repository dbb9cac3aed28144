import { GridlineError, toGridlineError } from '../../../common/errors.js';
import type { Tensor } from '../../../common/tensor.js';
import type { ModelRuntime } from '../model-runtime.js';
import { concatAlong, sliceAlong } from './batch-tensors.js';
import { compileBatcherOptions, MAX_TIMEOUT_MS, type BatcherConfig, type DynamicBatcherOptions } from './batcher-options.js';
import { createStatsRecorder, type BatcherStats, type RequestCounts } from './batcher-stats.js';
import { describeRequest } from './describe-request.js';
import { PendingQueue } from './pending-queue.js';
import { planBatch } from './plan-batch.js';

export interface SubmitOptions {
  /** 0 is the highest (default: the config's defaultPriority, the lowest level unless set). */
  readonly priority?: number;
  /**
   * Milliseconds from submit to the result (default: the config's defaultTimeoutMs). Past it the
   * request fails with DEADLINE_EXCEEDED; if it was still queued it is never sent to the model.
   */
  readonly timeoutMs?: number;
  /** Aborting fails the request with CANCELLED; if it was still queued it is never sent to the model. */
  readonly signal?: AbortSignal;
}

/** A dynamic batcher in front of one model runtime. */
export interface DynamicBatcher {
  readonly config: BatcherConfig;
  /**
   * Queues one request and resolves with its own part of each output: the rows it sent, split
   * along each output's batch dimension. Along dim 0 these are views over the batch's output
   * (no copy), so do not transfer their buffers. Never throws: every failure rejects, with
   * INVALID_ARGUMENT, UNAVAILABLE (retryable: the queue is full), DEADLINE_EXCEEDED, CANCELLED
   * or the model's error (MODEL_ERROR), which rejects only the requests of the batch that failed.
   */
  submit(feeds: Readonly<Record<string, Tensor>>, options?: SubmitOptions): Promise<Record<string, Tensor>>;
  stats(): BatcherStats;
  /**
   * Fails every queued request with CANCELLED and later submits too, then waits for the batches
   * already running, whose requests still get their results. The runtime is the caller's to close.
   */
  close(): Promise<void>;
}

interface Request {
  readonly feeds: Readonly<Record<string, Tensor>>;
  readonly rows: number;
  readonly key: string;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly deadline: number;
  state: 'queued' | 'running' | 'settled';
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  readonly resolve: (outputs: Record<string, Tensor>) => void;
  readonly reject: (error: GridlineError) => void;
}

type Failure = Exclude<keyof RequestCounts, 'submitted' | 'succeeded' | 'rejected' | 'invalid'>;
type Outcome =
  | { readonly outputs: Record<string, Tensor> }
  | { readonly error: GridlineError; readonly counter: Failure };

/** `details.reason` of the UNAVAILABLE error a full queue answers with. */
export const QUEUE_FULL = 'QUEUE_FULL';

/** What the batcher takes from its surroundings; tests replace it. */
export interface BatcherDeps {
  /**
   * Milliseconds on a monotonic clock (default performance.now). Deadlines and delays are read
   * from it when batches form, so a timer that fires late never lets an expired request run.
   */
  readonly now?: () => number;
}

/**
 * Creates a batcher over `runtime` (Triton's dynamic batcher, in short). Each batch is headed by
 * the oldest request of the highest priority waiting, and takes the requests that can share it
 * (same shapes but for the batch dim, same non-batched inputs) in priority then arrival order,
 * up to maxBatchSize rows. Priority is strict: a steady stream of high-priority requests can
 * starve lower ones until their deadline. Throws INVALID_ARGUMENT when the options are wrong.
 */
export function createDynamicBatcher(runtime: ModelRuntime, options: DynamicBatcherOptions, deps: BatcherDeps = {}): DynamicBatcher {
  const config = compileBatcherOptions(runtime, options);
  const clock = deps.now ?? (() => performance.now());
  const { name } = config;
  const queue = new PendingQueue<Request>(config.priorityLevels);
  const stats = createStatsRecorder(config.maxBatchSize);
  let state: 'open' | 'closing' | 'closed' = 'open';
  let inflight = 0;
  let running = 0;
  let soloKeys = 0;
  let pumpScheduled = false;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let closed: Promise<void> | undefined;
  let onIdle: (() => void) | undefined;

  function settle(req: Request, outcome: Outcome): void {
    if (req.state === 'settled') return;
    if (req.state === 'queued') {
      queue.delete(req);
      // The head, or the delay it waits on, may have changed.
      schedulePump();
    } else {
      running--;
    }
    req.state = 'settled';
    clearTimeout(req.timer);
    if (req.onAbort !== undefined) req.signal?.removeEventListener('abort', req.onAbort);
    if ('outputs' in outcome) {
      stats.requests.succeeded++;
      req.resolve(outcome.outputs);
    } else {
      stats.requests[outcome.counter]++;
      req.reject(outcome.error);
    }
  }

  function deadlineExceeded(req: Request, timeoutMs: number): Outcome {
    const where = req.state === 'queued' ? 'waiting in the queue' : 'while the model ran its batch';
    return {
      error: new GridlineError('DEADLINE_EXCEEDED', `${name}: request timed out after ${timeoutMs} ms, ${where}`, { details: { timeoutMs, state: req.state } }),
      counter: 'timedOut',
    };
  }

  function abortError(signal: AbortSignal): GridlineError {
    return new GridlineError('CANCELLED', `${name}: request aborted`, { cause: signal.reason });
  }

  /** Plans on the next turn of the event loop, so that requests arriving together batch together. */
  function schedulePump(): void {
    if (pumpScheduled || state !== 'open') return;
    pumpScheduled = true;
    setImmediate(pump);
  }

  function pump(): void {
    pumpScheduled = false;
    clearTimeout(flushTimer);
    flushTimer = undefined;
    while (state === 'open' && inflight < config.maxInflightBatches) {
      const head = queue.head();
      if (head === undefined) return;
      const now = clock();
      // Timers may lag behind the clock: a request past its deadline never runs, nor heads a batch.
      if (now >= head.deadline) {
        settle(head, deadlineExceeded(head, head.deadline - head.enqueuedAt));
        continue;
      }
      const candidates: Request[] = [];
      let rows = 0;
      for (const req of queue.withKey(head.key)) {
        if (now >= req.deadline) {
          settle(req, deadlineExceeded(req, req.deadline - req.enqueuedAt));
          continue;
        }
        candidates.push(req);
        rows += req.rows;
        if (rows > config.maxBatchSize) break;
      }
      if (candidates.length === 0) continue;
      const plan = planBatch(candidates, config, now);
      if (plan.kind === 'wait') {
        if (Number.isFinite(plan.until)) flushTimer = setTimeout(pump, Math.max(0, plan.until - now));
        return;
      }
      dispatch(candidates.slice(0, plan.count));
    }
  }

  function dispatch(batch: readonly Request[]): void {
    const now = clock();
    let rows = 0;
    for (const req of batch) {
      queue.delete(req);
      req.state = 'running';
      running++;
      rows += req.rows;
      stats.observeQueued((now - req.enqueuedAt) / 1000);
    }
    inflight++;
    void execute(batch, rows);
  }

  function concatFeeds(batch: readonly Request[]): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const { info, batchDim } of config.inputs) {
      const parts = batch.map((req) => req.feeds[info.name] as Tensor);
      // Non-batched inputs are equal across the batch (the key says so): send the first.
      feeds[info.name] = batchDim === null ? (parts[0] as Tensor) : concatAlong(parts, batchDim);
    }
    return feeds;
  }

  function split(results: Record<string, Tensor>, batch: readonly Request[], rows: number): Record<string, Tensor>[] {
    if (batch.length === 1) return [results];
    const mine = batch.map((): Record<string, Tensor> => ({}));
    for (const [output, t] of Object.entries(results)) {
      const dim = Object.hasOwn(config.outputBatchDims, output) ? (config.outputBatchDims[output] ?? null) : 0;
      if (dim === null) {
        for (const m of mine) m[output] = t;
        continue;
      }
      if (t.shape[dim] !== rows) {
        throw new GridlineError('MODEL_ERROR', `${name}: output "${output}" ${t.dtype}[${t.shape.join(',')}] has ${String(t.shape[dim])} along its batch dim ${dim}, but the batch has ${rows} rows (set outputs.${output}.batchDim)`);
      }
      let offset = 0;
      batch.forEach((req, i) => {
        (mine[i] as Record<string, Tensor>)[output] = sliceAlong(t, dim, offset, req.rows);
        offset += req.rows;
      });
    }
    return mine;
  }

  async function execute(batch: readonly Request[], rows: number): Promise<void> {
    const started = clock();
    let outcomes: Outcome[];
    let ok = true;
    try {
      const feeds = batch.length === 1 ? (batch[0] as Request).feeds : concatFeeds(batch);
      const results = await runtime.run(feeds);
      outcomes = split(results, batch, rows).map((outputs) => ({ outputs }));
    } catch (err) {
      ok = false;
      const error = toGridlineError(err, 'MODEL_ERROR');
      outcomes = batch.map(() => ({ error, counter: 'failed' }));
    }
    stats.observeBatch(rows, batch.length, (clock() - started) / 1000, ok);
    inflight--;
    batch.forEach((req, i) => settle(req, outcomes[i] as Outcome));
    if (inflight === 0) onIdle?.();
    schedulePump();
  }

  function submit(feeds: Readonly<Record<string, Tensor>>, options: SubmitOptions = {}): Promise<Record<string, Tensor>> {
    stats.requests.submitted++;
    if (state !== 'open') {
      stats.requests.cancelled++;
      return Promise.reject(new GridlineError('CANCELLED', `${name}: the batcher is closed`));
    }
    const priority = options.priority ?? config.defaultPriority;
    const timeoutMs = options.timeoutMs ?? config.defaultTimeoutMs;
    let layout: ReturnType<typeof describeRequest>;
    try {
      if (!Number.isInteger(priority) || priority < 0 || priority >= config.priorityLevels) {
        throw new GridlineError('INVALID_ARGUMENT', `${name}: priority must be an integer from 0 to ${config.priorityLevels - 1}, got ${String(priority)}`);
      }
      if (typeof timeoutMs !== 'number' || !(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
        throw new GridlineError('INVALID_ARGUMENT', `${name}: timeoutMs must be from 1 to ${MAX_TIMEOUT_MS}, got ${String(timeoutMs)}`);
      }
      layout = describeRequest(config, feeds);
    } catch (err) {
      stats.requests.invalid++;
      return Promise.reject(toGridlineError(err));
    }
    const { signal } = options;
    if (signal?.aborted === true) {
      stats.requests.cancelled++;
      return Promise.reject(abortError(signal));
    }
    if (queue.size >= config.maxQueueSize) {
      stats.requests.rejected++;
      // Refused at once, not queued: the gateway tries another replica or answers 429.
      return Promise.reject(new GridlineError('RESOURCE_EXHAUSTED', `${name}: queue full (${queue.size} requests waiting)`, {
        retryable: true,
        details: { reason: QUEUE_FULL, queued: queue.size, maxQueueSize: config.maxQueueSize },
      }));
    }
    return new Promise((resolve, reject) => {
      const now = clock();
      const req: Request = {
        feeds,
        rows: layout.rows,
        // A request that shares batches with none gets a key of its own.
        key: layout.key ?? `\u0000solo-${soloKeys++}`,
        priority,
        enqueuedAt: now,
        deadline: now + timeoutMs,
        state: 'queued',
        timer: undefined,
        signal,
        onAbort: undefined,
        resolve,
        reject,
      };
      req.timer = setTimeout(() => settle(req, deadlineExceeded(req, timeoutMs)), timeoutMs);
      if (signal !== undefined) {
        req.onAbort = () => settle(req, { error: abortError(signal), counter: 'cancelled' });
        signal.addEventListener('abort', req.onAbort, { once: true });
      }
      queue.add(req);
      schedulePump();
    });
  }

  return {
    config,
    submit,
    stats() {
      return stats.snapshot({ queued: queue.size, running, inflightBatches: inflight });
    },
    close() {
      if (closed !== undefined) return closed;
      state = 'closing';
      clearTimeout(flushTimer);
      flushTimer = undefined;
      const error = new GridlineError('CANCELLED', `${name}: the batcher is closing`);
      for (const req of queue.drain()) settle(req, { error, counter: 'cancelled' });
      const idle = inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
        onIdle = resolve;
      });
      closed = idle.then(() => {
        state = 'closed';
      });
      return closed;
    },
  };
}

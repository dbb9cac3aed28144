import { createHistogram, LATENCY_BOUNDS_S, type HistogramSnapshot } from './histogram.js';

/** How every request submitted so far ended, or that it has not yet. */
export interface RequestCounts {
  readonly submitted: number;
  readonly succeeded: number;
  /** Its batch's model run failed. */
  readonly failed: number;
  /** Turned away at submit because the queue was full. */
  readonly rejected: number;
  readonly timedOut: number;
  /** Aborted by its caller, or the batcher closed. */
  readonly cancelled: number;
  /** Its feeds or options were wrong. */
  readonly invalid: number;
}

/**
 * A snapshot for metrics (Triton's nv_inference_* ideas). Counters only grow; `queued`, `running`
 * and `inflightBatches` are gauges. submitted = succeeded + failed + rejected + timedOut +
 * cancelled + invalid + queued + running.
 */
export interface BatcherStats {
  readonly requests: RequestCounts;
  /** Requests waiting for a batch. */
  readonly queued: number;
  /** Requests sent to the model whose result their caller still awaits. */
  readonly running: number;
  readonly inflightBatches: number;
  /** Model runs, failed ones included. */
  readonly batches: number;
  readonly failedBatches: number;
  /** Rows over all batches (Triton's inference count; `batches` is its execution count). */
  readonly rows: number;
  /** batchSizes[n]: batches that held n rows, for n from 0 (always 0) to maxBatchSize. */
  readonly batchSizes: readonly number[];
  /** Per request sent to the model: seconds from submit to its batch starting. */
  readonly queueSeconds: HistogramSnapshot;
  /** Per request whose batch succeeded: seconds its batch ran. */
  readonly computeSeconds: HistogramSnapshot;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface StatsRecorder {
  readonly requests: Mutable<RequestCounts>;
  observeQueued(seconds: number): void;
  observeBatch(rows: number, requests: number, seconds: number, ok: boolean): void;
  snapshot(gauges: Pick<BatcherStats, 'queued' | 'running' | 'inflightBatches'>): BatcherStats;
}

export function createStatsRecorder(maxBatchSize: number): StatsRecorder {
  const requests: Mutable<RequestCounts> = { submitted: 0, succeeded: 0, failed: 0, rejected: 0, timedOut: 0, cancelled: 0, invalid: 0 };
  const batchSizes = new Array<number>(maxBatchSize + 1).fill(0);
  const queue = createHistogram(LATENCY_BOUNDS_S);
  const compute = createHistogram(LATENCY_BOUNDS_S);
  let batches = 0;
  let failedBatches = 0;
  let rows = 0;
  return {
    requests,
    observeQueued(seconds) {
      queue.observe(seconds);
    },
    observeBatch(batchRows, batchRequests, seconds, ok) {
      batches++;
      rows += batchRows;
      batchSizes[batchRows] = (batchSizes[batchRows] ?? 0) + 1;
      if (!ok) {
        failedBatches++;
        return;
      }
      for (let i = 0; i < batchRequests; i++) compute.observe(seconds);
    },
    snapshot(gauges) {
      return Object.freeze({
        requests: Object.freeze({ ...requests }),
        ...gauges,
        batches,
        failedBatches,
        rows,
        batchSizes: Object.freeze([...batchSizes]),
        queueSeconds: queue.snapshot(),
        computeSeconds: compute.snapshot(),
      });
    },
  };
}

import { collectDefaultMetrics, Registry } from 'prom-client';

export const PROCESS_METRICS_PREFIX = 'gridline_worker_';

let shared: Registry | undefined;

/**
 * prom-client's default metrics for this process (CPU seconds, resident memory, heap, event loop
 * lag, open handles, GC), named `gridline_worker_*`, in a registry of their own. One per process,
 * made on first use: the series describe the process, and each collectDefaultMetrics call would
 * start another event loop monitor.
 */
export function processMetrics(): Registry {
  if (shared === undefined) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared, prefix: PROCESS_METRICS_PREFIX });
  }
  return shared;
}

import { describe, expect, it } from 'vitest';
import { processMetrics } from './process-metrics.js';

describe('processMetrics', () => {
  it('has CPU, resident memory and event loop lag under the gridline_worker_ prefix', async () => {
    const text = await processMetrics().metrics();
    expect(text).toMatch(/^gridline_worker_process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^gridline_worker_process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^gridline_worker_nodejs_eventloop_lag_seconds \d/m);
    expect(text).not.toMatch(/^process_cpu_seconds_total/m);
  });

  it('is one registry per process', () => {
    expect(processMetrics()).toBe(processMetrics());
  });
});

import { describe, expect, it } from 'vitest';
import { planBatch, type BatchPolicy } from './plan-batch.js';

const policy = (over: Partial<BatchPolicy> = {}): BatchPolicy => ({ maxBatchSize: 8, maxQueueDelayMs: 10, preferredBatchSizes: [], ...over });
const reqs = (...rows: number[]) => rows.map((r, i) => ({ rows: r, enqueuedAt: 100 + i }));

describe('planBatch', () => {
  it('waits for the oldest candidate\'s delay while the batch can grow', () => {
    expect(planBatch(reqs(1, 1), policy(), 105)).toEqual({ kind: 'wait', until: 110 });
    expect(planBatch(reqs(1, 1), policy(), 110)).toEqual({ kind: 'run', count: 2 });
  });

  it('runs at once with no delay', () => {
    expect(planBatch(reqs(1), policy({ maxQueueDelayMs: 0 }), 100)).toEqual({ kind: 'run', count: 1 });
  });

  it('runs a full batch at once, and stops at the first request that does not fit', () => {
    expect(planBatch(reqs(4, 4, 1), policy(), 100)).toEqual({ kind: 'run', count: 2 });
    // 3 + 3 = 6, the next 3 would make 9: the batch cannot grow without skipping it.
    expect(planBatch(reqs(3, 3, 3, 1), policy(), 100)).toEqual({ kind: 'run', count: 2 });
  });

  it('runs the largest prefix that makes a preferred size', () => {
    const p = policy({ preferredBatchSizes: [2, 4] });
    expect(planBatch(reqs(1, 1, 1, 1, 1), p, 100)).toEqual({ kind: 'run', count: 4 });
    expect(planBatch(reqs(1, 1, 1), p, 100)).toEqual({ kind: 'run', count: 2 });
    expect(planBatch(reqs(3), p, 100)).toEqual({ kind: 'wait', until: 110 });
    // Past the delay everything that fits goes, not only the preferred prefix.
    expect(planBatch(reqs(1, 1, 1), p, 200)).toEqual({ kind: 'run', count: 3 });
  });

  it('measures the delay from the oldest candidate, whatever its place', () => {
    const cands = [{ rows: 1, enqueuedAt: 150 }, { rows: 1, enqueuedAt: 90 }];
    expect(planBatch(cands, policy(), 99)).toEqual({ kind: 'wait', until: 100 });
  });

  it('has nothing to run without candidates', () => {
    expect(planBatch([], policy(), 0)).toEqual({ kind: 'wait', until: Infinity });
  });
});

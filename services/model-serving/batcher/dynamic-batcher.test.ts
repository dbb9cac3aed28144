import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GridlineError } from '../../../common/errors.js';
import { tensor, type Tensor } from '../../../common/tensor.js';
import type { DynamicBatcherOptions } from './batcher-options.js';
import { createDynamicBatcher, QUEUE_FULL } from './dynamic-batcher.js';
import { createFakeRuntime, type FakeRuntimeOptions } from './fake-model-runtime.js';

/** A model y = x + 1 over x f32[batch, width]. */
const plusOne: FakeRuntimeOptions = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [null, null] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [null, null] }],
  compute: (feeds) => {
    const x = feeds.x as Tensor;
    return { y: tensor('float32', x.shape, (x.data as Float32Array).map((v) => v + 1)) };
  },
};

/** Request `id` with `rows` rows: every value is id, so each batch and result says whose rows it holds. */
function req(id: number, rows = 1, width = 2): Record<string, Tensor> {
  return { x: tensor('float32', [rows, width], new Float32Array(rows * width).fill(id)) };
}

/** Ids of the requests in a recorded batch, in batch order (one per row). */
function ids(feeds: Readonly<Record<string, Tensor>> | undefined): number[] {
  const x = feeds?.x as Tensor;
  const width = x.shape[1] ?? 1;
  return Array.from({ length: x.shape[0] ?? 0 }, (_, r) => x.data[r * width] as number);
}

/** Lets pending pumps (setImmediate) and the promise chains after a run finish. */
async function turns(n = 4): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Records how each promise settled, without unhandled rejections. */
function track<T>(p: Promise<T>): { settled: 'pending' | 'resolved' | 'rejected'; value?: T; error?: GridlineError } {
  const t: { settled: 'pending' | 'resolved' | 'rejected'; value?: T; error?: GridlineError } = { settled: 'pending' };
  p.then((value) => Object.assign(t, { settled: 'resolved', value }), (error: GridlineError) => Object.assign(t, { settled: 'rejected', error }));
  return t;
}

function setup(options: Partial<DynamicBatcherOptions> = {}, runtime: Partial<FakeRuntimeOptions> = {}) {
  const rt = createFakeRuntime({ ...plusOne, manual: true, ...runtime });
  const batcher = createDynamicBatcher(rt, { maxBatchSize: 4, name: 'm', ...options });
  return { rt, batcher };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('DynamicBatcher', () => {
  it('batches requests up to maxBatchSize and gives each caller its own rows', async () => {
    const { rt, batcher } = setup();
    const results = Array.from({ length: 10 }, (_, i) => track(batcher.submit(req(i))));
    await turns();
    expect(rt.runs.map(ids)).toEqual([[0, 1, 2, 3]]);
    // The next batch forms while this one runs, and goes when it ends.
    rt.finishNext();
    await turns();
    expect(rt.runs.map(ids)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    rt.finishNext();
    await turns();
    rt.finishNext();
    await turns();
    expect(rt.runs.map(ids)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    results.forEach((r, i) => {
      expect(r.settled).toBe('resolved');
      expect(r.value?.y?.shape).toEqual([1, 2]);
      expect([...(r.value?.y?.data ?? [])]).toEqual([i + 1, i + 1]);
    });
    const stats = batcher.stats();
    expect(stats.requests).toMatchObject({ submitted: 10, succeeded: 10 });
    expect(stats.batches).toBe(3);
    expect(stats.rows).toBe(10);
    expect(stats.batchSizes).toEqual([0, 0, 1, 0, 2]);
    expect(stats.queueSeconds.count).toBe(10);
    expect(stats.computeSeconds.count).toBe(10);
    expect(stats.computeSeconds.counts.reduce((a, b) => a + b, 0)).toBe(10);
    expect({ queued: stats.queued, running: stats.running, inflightBatches: stats.inflightBatches }).toEqual({ queued: 0, running: 0, inflightBatches: 0 });
  });

  it('counts rows, not requests, and never splits a request across batches', async () => {
    const { rt, batcher } = setup({ maxBatchSize: 8 }, { manual: false });
    const results = [3, 3, 3, 1].map((rows, i) => batcher.submit(req(i, rows)));
    const outs = await Promise.all(results);
    expect(rt.runs.map(ids)).toEqual([[0, 0, 0, 1, 1, 1], [2, 2, 2, 3]]);
    expect(outs.map((o) => o.y?.shape)).toEqual([[3, 2], [3, 2], [3, 2], [1, 2]]);
    expect(outs.map((o) => o.y?.data[0])).toEqual([1, 2, 3, 4]);
  });

  it('runs a batch at once when a preferred size is reachable, else waits for the delay', async () => {
    vi.useFakeTimers();
    const { rt, batcher } = setup({ maxBatchSize: 8, maxQueueDelayMs: 1000, preferredBatchSizes: [3] }, { manual: false });
    // Fake time moves 1 ms a step: a setImmediate queued during an advance fires on the next one.
    const step = () => vi.advanceTimersByTimeAsync(1);
    const first = [0, 1].map((i) => track(batcher.submit(req(i))));
    await vi.advanceTimersByTimeAsync(10);
    expect(rt.runs).toHaveLength(0);
    first.push(track(batcher.submit(req(2))));
    await step();
    expect(rt.runs.map(ids)).toEqual([[0, 1, 2]]);
    expect(first.map((r) => r.settled)).toEqual(['resolved', 'resolved', 'resolved']);
    // Of five more, a prefix of three makes the preferred size and goes; two wait for the delay.
    const rest = [3, 4, 5, 6, 7].map((i) => track(batcher.submit(req(i))));
    await step();
    expect(rt.runs.map(ids)).toEqual([[0, 1, 2], [3, 4, 5]]);
    await vi.advanceTimersByTimeAsync(998);
    expect(rt.runs).toHaveLength(2);
    await step();
    expect(rt.runs.map(ids)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7]]);
    await step();
    expect(rest.map((r) => r.settled)).toEqual(Array(5).fill('resolved'));
  });

  it('flushes a partial batch after maxQueueDelayMs', async () => {
    vi.useFakeTimers();
    const { rt, batcher } = setup({ maxBatchSize: 8, maxQueueDelayMs: 50 }, { manual: false });
    const a = track(batcher.submit(req(0)));
    await vi.advanceTimersByTimeAsync(20);
    const b = track(batcher.submit(req(1)));
    await vi.advanceTimersByTimeAsync(29);
    expect(rt.runs).toHaveLength(0);
    // The delay counts from the oldest request.
    await vi.advanceTimersByTimeAsync(1);
    expect(rt.runs.map(ids)).toEqual([[0, 1]]);
    await vi.advanceTimersByTimeAsync(1);
    expect([a.settled, b.settled]).toEqual(['resolved', 'resolved']);
  });

  it('takes higher priorities first, first in first out within a level', async () => {
    const { rt, batcher } = setup({ maxBatchSize: 2, priorityLevels: 3 });
    const order: number[] = [];
    const submit = (id: number, priority: number) => batcher.submit(req(id), { priority }).then(() => order.push(id));
    const all = Promise.all([submit(0, 2), submit(1, 2), submit(2, 1), submit(3, 0), submit(4, 0), submit(5, 1), submit(6, 2)]);
    await turns();
    // A request arriving while a batch runs still goes ahead of lower levels.
    const late = submit(7, 0);
    for (let i = 0; i < 5; i++) {
      rt.finishNext();
      await turns();
    }
    await all;
    await late;
    expect(rt.runs.map(ids)).toEqual([[3, 4], [7, 2], [5, 0], [1, 6]]);
    expect(order).toEqual([3, 4, 7, 2, 5, 0, 1, 6]);
  });

  it('uses the lowest level when a request names no priority, and refuses a bad one', async () => {
    const { rt, batcher } = setup({ maxBatchSize: 1 });
    const low = track(batcher.submit(req(0)));
    const high = track(batcher.submit(req(1), { priority: 0 }));
    await turns();
    expect(rt.runs.map(ids)).toEqual([[1]]);
    await expect(batcher.submit(req(2), { priority: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(batcher.submit(req(2), { priority: 0.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(batcher.submit(req(2), { timeoutMs: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(batcher.submit({ y: req(2).x as Tensor })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    rt.finishNext();
    await turns();
    rt.finishNext();
    await turns();
    expect([high.settled, low.settled]).toEqual(['resolved', 'resolved']);
    expect(batcher.stats().requests).toMatchObject({ submitted: 6, succeeded: 2, invalid: 4 });
  });

  it('rejects a request whose deadline passes while queued with DEADLINE_EXCEEDED, and never runs it', async () => {
    vi.useFakeTimers();
    const { rt, batcher } = setup({ maxBatchSize: 1, defaultTimeoutMs: 1000 });
    const a = track(batcher.submit(req(0)));
    const b = track(batcher.submit(req(1), { timeoutMs: 50 }));
    await vi.advanceTimersByTimeAsync(50);
    expect(b.settled).toBe('rejected');
    expect(b.error).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: false });
    expect(b.error?.message).toMatch(/after 50 ms, waiting in the queue/);
    rt.finishNext();
    await vi.advanceTimersByTimeAsync(0);
    expect(a.settled).toBe('resolved');
    expect(rt.runs.map(ids)).toEqual([[0]]);
    expect(batcher.stats().requests).toMatchObject({ timedOut: 1, succeeded: 1 });
  });

  it('rejects a running request at its deadline; the rest of its batch still gets results', async () => {
    vi.useFakeTimers();
    const { rt, batcher } = setup();
    const a = track(batcher.submit(req(0), { timeoutMs: 100 }));
    const b = track(batcher.submit(req(1)));
    await vi.advanceTimersByTimeAsync(100);
    expect(rt.runs.map(ids)).toEqual([[0, 1]]);
    expect(a.error?.message).toMatch(/while the model ran its batch/);
    expect(batcher.stats().running).toBe(1);
    rt.finishNext();
    await vi.advanceTimersByTimeAsync(0);
    expect([a.settled, b.settled]).toEqual(['rejected', 'resolved']);
    expect(batcher.stats().requests).toMatchObject({ timedOut: 1, succeeded: 1 });
    expect(batcher.stats().computeSeconds.count).toBe(2);
  });

  it('turns requests away at once with a retryable RESOURCE_EXHAUSTED when the queue is full', async () => {
    const { rt, batcher } = setup({ maxBatchSize: 1, maxQueueSize: 2 });
    const a = track(batcher.submit(req(0)));
    await turns();
    expect(rt.runs).toHaveLength(1);
    const waiting = [track(batcher.submit(req(1))), track(batcher.submit(req(2)))];
    const full = track(batcher.submit(req(3)));
    await turns(1);
    expect(full.settled).toBe('rejected');
    expect(full.error).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryable: true, details: { reason: QUEUE_FULL, queued: 2, maxQueueSize: 2 } });
    expect(full.error?.message).toMatch(/queue full/);
    while (rt.finishNext()) await turns();
    await turns();
    while (rt.finishNext()) await turns();
    expect([a, ...waiting].map((r) => r.settled)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(batcher.stats().requests).toMatchObject({ rejected: 1, succeeded: 3 });
  });

  it('cancels on abort: before submit, while queued (never run) and while running', async () => {
    const { rt, batcher } = setup({ maxBatchSize: 2 });
    const early = new AbortController();
    early.abort(new Error('gone'));
    await expect(batcher.submit(req(9), { signal: early.signal })).rejects.toMatchObject({ code: 'CANCELLED' });

    const running = new AbortController();
    const queued = new AbortController();
    const a = track(batcher.submit(req(0), { signal: running.signal }));
    const b = track(batcher.submit(req(1)));
    await turns();
    const c = track(batcher.submit(req(2), { signal: queued.signal }));
    const d = track(batcher.submit(req(3)));
    queued.abort();
    running.abort(new Error('client went away'));
    await turns(1);
    expect(c.error).toMatchObject({ code: 'CANCELLED' });
    expect(a.error).toMatchObject({ code: 'CANCELLED' });
    expect((a.error?.cause as Error).message).toBe('client went away');
    rt.finishNext();
    await turns();
    rt.finishNext();
    await turns();
    expect(rt.runs.map(ids)).toEqual([[0, 1], [3]]);
    expect([a, b, c, d].map((r) => r.settled)).toEqual(['rejected', 'resolved', 'rejected', 'resolved']);
    expect(batcher.stats().requests).toMatchObject({ submitted: 5, cancelled: 3, succeeded: 2 });
  });

  it('close cancels queued requests, waits for the running batch, and refuses later submits', async () => {
    const { rt, batcher } = setup({ maxBatchSize: 1 });
    const a = track(batcher.submit(req(0)));
    const b = track(batcher.submit(req(1)));
    await turns();
    let closed = false;
    const closing = batcher.close().then(() => {
      closed = true;
    });
    expect(batcher.close()).toBe(batcher.close());
    await turns();
    expect(b.error).toMatchObject({ code: 'CANCELLED' });
    expect(closed).toBe(false);
    await expect(batcher.submit(req(2))).rejects.toMatchObject({ code: 'CANCELLED' });
    rt.finishNext();
    await closing;
    expect(a.settled).toBe('resolved');
    expect(rt.runs).toHaveLength(1);
    expect(batcher.stats().requests).toMatchObject({ submitted: 3, succeeded: 1, cancelled: 2 });
  });

  it('never merges different trailing shapes or different non-batched inputs; splits state along dim 1', async () => {
    // A Silero-like model: x [B,T], sr scalar, h [2,B,3]; y = x + sr, hn = h * 2.
    const rt = createFakeRuntime({
      inputs: [
        { name: 'x', dtype: 'float32', shape: [null, null] },
        { name: 'sr', dtype: 'int64', shape: null },
        { name: 'h', dtype: 'float32', shape: [2, null, 3] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: [null, null] }, { name: 'hn', dtype: 'float32', shape: [2, null, 3] }],
      compute: (f) => {
        const sr = Number((f.sr as Tensor).data[0]);
        const x = f.x as Tensor;
        const h = f.h as Tensor;
        return {
          y: tensor('float32', x.shape, (x.data as Float32Array).map((v) => v + sr)),
          hn: tensor('float32', h.shape, (h.data as Float32Array).map((v) => v * 2)),
        };
      },
    });
    const batcher = createDynamicBatcher(rt, {
      maxBatchSize: 8,
      inputs: { h: { batchDim: 1 } },
      outputs: { hn: { batchDim: 1 } },
    });
    const request = (id: number, width: number, sr: bigint) => ({
      x: tensor('float32', [1, width], new Float32Array(width).fill(id)),
      sr: tensor('int64', [], BigInt64Array.from([sr])),
      // h[layer, 0, k] = 100 * id + 10 * layer + k
      h: tensor('float32', [2, 1, 3], Float32Array.from([0, 1, 2, 10, 11, 12], (v) => 100 * id + v)),
    });
    const specs: [number, number, bigint][] = [[0, 4, 16000n], [1, 4, 8000n], [2, 6, 16000n], [3, 4, 16000n], [4, 4, 8000n], [5, 6, 16000n]];
    const outs = await Promise.all(specs.map(([id, w, sr]) => batcher.submit(request(id, w, sr))));
    const batches = rt.runs.map((f) => ({ ids: ids(f), sr: Number((f.sr as Tensor).data[0]), h: (f.h as Tensor).shape }));
    expect(batches).toEqual([
      { ids: [0, 3], sr: 16000, h: [2, 2, 3] },
      { ids: [1, 4], sr: 8000, h: [2, 2, 3] },
      { ids: [2, 5], sr: 16000, h: [2, 2, 3] },
    ]);
    outs.forEach((o, i) => {
      const [id, width, sr] = specs[i] as [number, number, bigint];
      expect(o.y?.shape).toEqual([1, width]);
      expect(o.y?.data[0]).toBe(id + Number(sr));
      expect(o.hn?.shape).toEqual([2, 1, 3]);
      expect([...(o.hn?.data ?? [])]).toEqual([0, 1, 2, 10, 11, 12].map((v) => 2 * (100 * id + v)));
    });
  });

  it('a failed run rejects the requests of that batch only', async () => {
    const { rt, batcher } = setup({ maxBatchSize: 2 });
    const results = [0, 1, 2, 3].map((i) => track(batcher.submit(req(i))));
    await turns();
    rt.finishNext(new Error('CUDA out of memory'));
    await turns();
    rt.finishNext();
    await turns();
    expect(results.map((r) => r.settled)).toEqual(['rejected', 'rejected', 'resolved', 'resolved']);
    expect(results[0]?.error).toMatchObject({ code: 'MODEL_ERROR', message: 'CUDA out of memory' });
    expect(results[1]?.error).toBe(results[0]?.error);
    const stats = batcher.stats();
    expect(stats).toMatchObject({ batches: 2, failedBatches: 1 });
    expect(stats.requests).toMatchObject({ failed: 2, succeeded: 2 });
    expect(stats.computeSeconds.count).toBe(2);
  });

  it('fails a batch whose output does not follow the batch dimension', async () => {
    const { batcher } = setup({}, {
      manual: false,
      compute: () => ({ y: tensor('float32', [1, 1], Float32Array.from([0])) }),
    });
    const results = await Promise.allSettled([batcher.submit(req(0)), batcher.submit(req(1))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'MODEL_ERROR' });
    expect(((results[0] as PromiseRejectedResult).reason as Error).message).toMatch(/has 1 along its batch dim 0, but the batch has 2 rows/);
  });

  it('runs requests alone when the model has no batched input, and can run batches side by side', async () => {
    const rt = createFakeRuntime({
      ...plusOne,
      manual: true,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
    });
    const batcher = createDynamicBatcher(rt, { maxBatchSize: 4, maxInflightBatches: 2 });
    const results = [0, 1, 2].map((i) => track(batcher.submit(req(i))));
    await turns();
    expect(rt.runs.map(ids)).toEqual([[0], [1]]);
    expect(batcher.stats().inflightBatches).toBe(2);
    while (rt.finishNext()) await turns();
    await turns();
    while (rt.finishNext()) await turns();
    expect(rt.runs.map(ids)).toEqual([[0], [1], [2]]);
    expect(results.map((r) => r.value?.y?.data[0])).toEqual([1, 2, 3]);
  });
});

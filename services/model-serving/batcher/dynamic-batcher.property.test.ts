import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { GridlineError } from '../../../common/errors.js';
import { tensor, type Tensor } from '../../../common/tensor.js';
import type { ModelRuntime } from '../model-runtime.js';
import { createDynamicBatcher } from './dynamic-batcher.js';
import { createFakeRuntime } from './fake-model-runtime.js';

type Action =
  | { readonly kind: 'submit'; readonly rows: number; readonly width: number; readonly priority: number; readonly timeoutMs: number | undefined; readonly abortable: boolean }
  | { readonly kind: 'abort'; readonly pick: number }
  | { readonly kind: 'finish'; readonly fail: boolean }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'lag'; readonly ms: number }
  | { readonly kind: 'close' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('submit' as const),
    rows: fc.integer({ min: 1, max: 3 }),
    // The width sets the trailing shape, so requests of two widths never share a batch.
    width: fc.integer({ min: 1, max: 2 }),
    priority: fc.integer({ min: 0, max: 2 }),
    timeoutMs: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
    abortable: fc.boolean(),
  }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('finish' as const), fail: fc.nat(3).map((n) => n === 0) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 40 }) }) },
  // The batcher's clock jumps ahead of its timers, as when the event loop runs late.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lag' as const), ms: fc.integer({ min: 1, max: 60 }) }) },
);

/** Actions, with a close somewhere in a quarter of the runs (later submits all fail with CANCELLED). */
const script: fc.Arbitrary<Action[]> = fc.tuple(fc.array(action, { minLength: 5, maxLength: 80, size: 'medium' }), fc.nat(), fc.nat(3))
  .map(([actions, at, close]) => (close === 0 ? actions.toSpliced(at % (actions.length + 1), 0, { kind: 'close' }) : actions));

const config = fc.record({
  maxBatchSize: fc.integer({ min: 3, max: 6 }),
  maxQueueDelayMs: fc.integer({ min: 0, max: 30 }),
  preferredBatchSizes: fc.subarray([2, 3, 4]),
  maxQueueSize: fc.integer({ min: 1, max: 8 }),
  maxInflightBatches: fc.integer({ min: 1, max: 2 }),
});

interface Tracked {
  readonly id: number;
  readonly seq: number;
  readonly rows: number;
  readonly width: number;
  readonly priority: number;
  readonly deadline: number;
  readonly controller: AbortController | undefined;
  aborted: boolean;
  dispatches: number;
  outcome: 'pending' | 'resolved' | 'rejected';
  settlements: number;
  value?: Record<string, Tensor>;
  error?: GridlineError;
}

/** (priority, arrival) order: the order a batch must take requests in. */
const before = (a: Tracked, b: Tracked): number => a.priority - b.priority || a.seq - b.seq;

describe('DynamicBatcher (property)', () => {
  it('settles every request once, keeps batches within maxBatchSize, and takes requests in priority order', async () => {
    await fc.assert(fc.asyncProperty(config, script, async (opts, actions) => {
      vi.useFakeTimers();
      try {
        const violations: string[] = [];
        const tracked: Tracked[] = [];
        let closed = false;
        let lag = 0;
        const now = (): number => performance.now() + lag;
        const fake = createFakeRuntime({
          manual: true,
          inputs: [{ name: 'x', dtype: 'float32', shape: [null, null] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [null, null] }],
          compute: (f) => {
            const x = f.x as Tensor;
            return { y: tensor('float32', x.shape, (x.data as Float32Array).map((v) => v + 1)) };
          },
        });
        // Checks each batch as the batcher sends it, against the test's own view of the queue.
        const runtime: ModelRuntime = {
          inputs: fake.inputs,
          outputs: fake.outputs,
          close: () => fake.close(),
          run(feeds) {
            const at = now();
            const x = feeds.x as Tensor;
            const [rows = 0, width = 1] = x.shape;
            if (closed) violations.push('a batch ran after close');
            if (rows > opts.maxBatchSize) violations.push(`batch of ${rows} rows > ${opts.maxBatchSize}`);
            if (fake.waiting >= opts.maxInflightBatches) violations.push('too many batches in flight');
            const batch: Tracked[] = [];
            for (let r = 0; r < rows; ) {
              const t = tracked[x.data[r * width] as number];
              if (t === undefined) {
                violations.push('unknown row');
                break;
              }
              batch.push(t);
              r += t.rows;
            }
            const waiting = tracked.filter((t) => t.dispatches === 0 && !t.aborted && t.outcome === 'pending' && at < t.deadline);
            for (const t of batch) {
              if (t.dispatches > 0) violations.push(`request ${t.id} sent twice`);
              if (t.aborted) violations.push(`aborted request ${t.id} sent`);
              if (at >= t.deadline) violations.push(`request ${t.id} sent past its deadline`);
            }
            const expected = waiting.filter((t) => t.width === width).sort(before).slice(0, batch.length);
            if (expected.some((t, i) => t !== batch[i])) {
              violations.push(`batch [${batch.map((t) => t.id).join(',')}] is not the head of its key's queue [${expected.map((t) => t.id).join(',')}]`);
            }
            const head = [...waiting].sort(before)[0];
            if (head !== undefined && batch[0] !== head) violations.push(`batch starts with ${batch[0]?.id}, not the head ${head.id}`);
            for (const t of batch) t.dispatches++;
            return fake.run(feeds);
          },
        };
        const preferredBatchSizes = opts.preferredBatchSizes.filter((n) => n <= opts.maxBatchSize);
        const batcher = createDynamicBatcher(runtime, { ...opts, preferredBatchSizes, priorityLevels: 3, defaultTimeoutMs: 500, name: 'prop' }, { now });

        for (const a of actions) {
          switch (a.kind) {
            case 'submit': {
              const id = tracked.length;
              const controller = a.abortable ? new AbortController() : undefined;
              const t: Tracked = {
                id, seq: id, rows: a.rows, width: a.width, priority: a.priority,
                deadline: now() + (a.timeoutMs ?? 500),
                controller, aborted: false, dispatches: 0, outcome: 'pending', settlements: 0,
              };
              tracked.push(t);
              const feeds = { x: tensor('float32', [a.rows, a.width], new Float32Array(a.rows * a.width).fill(id)) };
              batcher.submit(feeds, { priority: a.priority, timeoutMs: a.timeoutMs, signal: controller?.signal }).then(
                (value) => Object.assign(t, { outcome: 'resolved', value, settlements: t.settlements + 1 }),
                (error: GridlineError) => Object.assign(t, { outcome: 'rejected', error, settlements: t.settlements + 1 }),
              );
              break;
            }
            case 'abort': {
              const abortable = tracked.filter((t) => t.controller !== undefined && !t.aborted);
              const t = abortable[a.pick % Math.max(1, abortable.length)];
              if (t !== undefined) {
                t.aborted = true;
                t.controller?.abort();
              }
              break;
            }
            case 'finish':
              fake.finishNext(a.fail ? new Error('boom') : undefined);
              break;
            case 'advance':
              await vi.advanceTimersByTimeAsync(a.ms);
              break;
            case 'lag':
              lag += a.ms;
              break;
            case 'close':
              closed = true;
              void batcher.close();
              break;
          }
          await Promise.resolve();
        }
        // Drain: finish every run and let every deadline pass.
        for (let i = 0; i < 200 && (fake.waiting > 0 || tracked.some((t) => t.outcome === 'pending')); i++) {
          while (fake.finishNext()) { /* finish all */ }
          await vi.advanceTimersByTimeAsync(10);
        }
        await batcher.close();

        expect(violations).toEqual([]);
        for (const t of tracked) {
          expect(t.settlements, `request ${t.id}`).toBe(1);
          if (t.outcome === 'resolved') {
            expect(t.dispatches).toBe(1);
            expect(t.value?.y?.shape).toEqual([t.rows, t.width]);
            expect([...(t.value?.y?.data ?? [])]).toEqual(Array(t.rows * t.width).fill(t.id + 1));
          } else {
            expect(['RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED', 'CANCELLED', 'MODEL_ERROR']).toContain(t.error?.code);
            if (t.error?.code === 'MODEL_ERROR') expect(t.dispatches).toBe(1);
            if (t.error?.code === 'RESOURCE_EXHAUSTED') expect(t.dispatches).toBe(0);
          }
        }
        const stats = batcher.stats();
        const r = stats.requests;
        expect(r.submitted).toBe(tracked.length);
        expect(r.succeeded + r.failed + r.rejected + r.timedOut + r.cancelled + r.invalid).toBe(tracked.length);
        expect(r.succeeded).toBe(tracked.filter((t) => t.outcome === 'resolved').length);
        expect([stats.queued, stats.running, stats.inflightBatches]).toEqual([0, 0, 0]);
        expect(stats.batches).toBe(fake.runs.length);
        expect(stats.batchSizes.slice(opts.maxBatchSize + 1)).toEqual([]);
      } finally {
        vi.useRealTimers();
      }
    }), { numRuns: 300 });
  });
});

/**
 * What the inference benchmarks' sides share: a temp folder, a fixture set up once (a cluster, an
 * in-process session, a bare server), one measurement per repetition, and a summary whose label
 * carries the medians of the secondary figures (p99, the client's CPU) next to the main one.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GridlineError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { tensorFromBytes, type Tensor } from '../common/tensor.js';
import type { ModelRuntime } from '../services/model-serving/model-runtime.js';
import { fp32Bytes, type BenchModelKind } from './inference-models.js';
import { median, once, removeTmp, selfPeakRssBytes, type BenchOptions, type ProcessPeak, type SideContext, type SideFunction } from './harness.js';

/** One repetition's result. */
export interface Measured {
  /** The figure the harness takes, in the side's unit. */
  readonly figure: number;
  /** The progress line. */
  readonly line: string;
  /** Secondary figures by name (medians of them go into the label). */
  readonly extra: Readonly<Record<string, number>>;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface Fixture {
  measure(signal: AbortSignal): Promise<Measured>;
  /** Reads every process's peak RSS, then stops what the fixture started; idempotent. */
  stop(): Promise<ProcessPeak[]>;
  /** What was measured, given the medians of the measured repetitions' extras (and the repetitions). */
  label(extras: Readonly<Record<string, number>>, reps: readonly Measured[]): string;
}

/** A side: `setup` builds the fixture in a temp folder of its own; each repetition measures once. */
export function fixtureSide(unit: string, higherIsBetter: boolean, setup: (ctx: SideContext, tmp: string) => Promise<Fixture>): SideFunction {
  return async (ctx) => {
    const tmp = await mkdtemp(join(tmpdir(), 'glbench-inference-'));
    let fixture: Fixture | null = null;
    const close = once(async () => {
      await fixture?.stop().catch((err: unknown) => ctx.log(`cleanup failed: ${(err as Error).message}`));
      await removeTmp(tmp, ctx);
    });
    try {
      fixture = await setup(ctx, tmp);
    } catch (err) {
      await close();
      throw err;
    }
    const f = fixture;
    const measured: Measured[] = [];
    return {
      close,
      async rep(index, warm) {
        const m = await f.measure(ctx.signal);
        if (!warm) measured.push(m);
        ctx.log(`${warm ? 'warm-up' : `rep ${index}`}: ${m.line}`);
        return m.figure;
      },
      async finish() {
        const stopping = performance.now();
        const processes = await f.stop();
        ctx.log(`stopped in ${Math.round(performance.now() - stopping)} ms`);
        await close();
        const keys = new Set(measured.flatMap((m) => Object.keys(m.extra)));
        const extras = Object.fromEntries([...keys].map((k) => [k, median(measured.map((m) => m.extra[k] ?? Number.NaN))]));
        return {
          label: f.label(extras, measured),
          unit,
          higherIsBetter,
          processes,
          details: { extrasMedian: extras, perRep: measured.map((m) => ({ figure: m.figure, ...m.extra, ...m.details })) },
        };
      },
    };
  };
}

/** Peak RSS of this process as the one entry of an in-process side. */
export function selfPeak(name: string): ProcessPeak[] {
  return [{ name, pid: process.pid, peakRssBytes: selfPeakRssBytes() }];
}

/** Feeds of `batch` rows of the model's input (its row shape with dim 0 = batch). */
export function batchFeeds(kind: BenchModelKind, batch: number): Record<string, Tensor> {
  const shape = [batch, ...kind.rowShape.slice(1)];
  return { [kind.input]: tensorFromBytes('float32', shape, fp32Bytes(shape)) };
}

/** onnxruntime-node in this process (main thread, its default threads), as a user calls it. */
export async function loadInProcess(kind: BenchModelKind, tmp: string): Promise<ModelRuntime> {
  const { createOnnxRuntime } = await import('../services/model-serving/onnx-runtime.js');
  const runtime = await createOnnxRuntime(await kind.file(tmp), { useGpu: false, logger: silentLogger });
  if (!runtime.inputs.some((i) => i.name === kind.input)) {
    await runtime.close();
    throw new GridlineError('INTERNAL', `the model has no input ${kind.input}`);
  }
  return runtime;
}

export interface BatchSizeRow {
  readonly batch: number;
  readonly rowsPerSecond: number;
  readonly msPerCall: number;
}

/**
 * Rows per second of back-to-back runs at each batch size (each for `msPerSize` after two
 * unmeasured runs); the best is what the runtime can do on this machine.
 */
export async function sweepBatchSizes(runtime: ModelRuntime, kind: BenchModelKind, sizes: readonly number[], msPerSize: number, signal: AbortSignal): Promise<{ best: BatchSizeRow; rows: BatchSizeRow[] }> {
  const rows: BatchSizeRow[] = [];
  for (const batch of sizes) {
    const feeds = batchFeeds(kind, batch);
    await runtime.run(feeds);
    await runtime.run(feeds);
    let calls = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < msPerSize) {
      signal.throwIfAborted();
      await runtime.run(feeds);
      calls++;
    }
    const ms = performance.now() - t0;
    rows.push({ batch, rowsPerSecond: (calls * batch) / (ms / 1000), msPerCall: ms / calls });
  }
  const best = rows.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
  return { best, rows };
}

/** Unmeasured load before a side's first repetition, the same on both sides. */
export function warmUpMs(options: BenchOptions): number {
  return options.quick ? 1_000 : 5_000;
}

/** `value` with 2 significant decimals under 10, 1 under 100, else none. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);
}

/**
 * placement: the scheduler's figures from bench/placement-bench.ts (runPlacementBench: 10,000
 * replicas on 5,000 simulated nodes), when that file exists. There is no baseline: the target is
 * absolute (≤ 1 s per place()).
 */
import { existsSync } from 'node:fs';
import { selfPeakRssBytes, type BenchDefinition, type SideContext, type SideMeasurement } from './harness.js';

const PLACEMENT_BENCH = new URL('./placement-bench.ts', import.meta.url);
const TARGET_MS = 1_000;

/** The part of bench/placement-bench.ts this wrapper relies on. */
interface PlacementBenchModule {
  runPlacementBench(options?: { runs?: number }): {
    readonly nodes: number;
    readonly gpuNodes: number;
    readonly replicas: number;
    readonly placed: number;
    readonly unplaced: number;
    readonly runsMs: readonly number[];
    readonly medianMs: number;
    readonly peakRssBytes: number;
  };
}

async function placement(ctx: SideContext): Promise<SideMeasurement> {
  if (!existsSync(PLACEMENT_BENCH)) throw new Error('bench/placement-bench.ts does not exist (yet): nothing to run');
  // Imported by URL so this file does not depend on the other file's presence at compile time.
  const mod = (await import(PLACEMENT_BENCH.href)) as Partial<PlacementBenchModule>;
  if (typeof mod.runPlacementBench !== 'function') throw new Error('bench/placement-bench.ts exports no runPlacementBench()');
  const r = mod.runPlacementBench({ runs: ctx.options.quick ? 2 : 5 });
  ctx.log(`${r.replicas} replicas on ${r.nodes} nodes: median ${r.medianMs.toFixed(1)} ms (${r.runsMs.map((m) => m.toFixed(0)).join(', ')}); ${r.placed} placed, ${r.unplaced} unplaced`);
  return {
    label: `place(): ${r.replicas} replicas on ${r.nodes} simulated nodes (${r.gpuNodes} with GPUs), runPlacementBench() from bench/placement-bench.ts`,
    unit: 'ms',
    higherIsBetter: false,
    reps: r.runsMs,
    processes: [{ name: 'bench (scheduler in-process)', pid: process.pid, peakRssBytes: Math.max(r.peakRssBytes, selfPeakRssBytes()) }],
    details: { ...r },
  };
}

export const placementBench: BenchDefinition = {
  name: 'placement',
  description: 'scheduler: place 10,000 replicas on 5,000 simulated nodes',
  target: { text: `≤ ${TARGET_MS} ms`, check: ({ gridline }) => (gridline === null ? null : gridline.median <= TARGET_MS) },
  sides: { gridline: placement },
  timeoutMs: (o) => (o.quick ? 120_000 : 180_000),
};

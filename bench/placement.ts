/**
 * placement: the scheduler's figures from bench/placement-bench.ts (runPlacementBench: 10,000
 * replicas on 5,000 simulated nodes). There is no baseline: the target is
 * absolute (≤ 1 s per place()). runPlacementBench times its own runs; they are this side's reps.
 */
import { selfPeakRssBytes, type BenchDefinition, type SideContext, type SideSession } from './harness.js';
import { runPlacementBench, type PlacementBenchResult } from './placement-bench.js';

const TARGET_MS = 1_000;

function placement(ctx: SideContext): Promise<SideSession> {
  const run = runPlacementBench;
  let figures: PlacementBenchResult | null = null;
  return Promise.resolve({
    close: () => Promise.resolve(),
    rep() {
      const r = run({ runs: ctx.options.quick ? 3 : 7 });
      figures = r;
      ctx.log(`${r.replicas} replicas on ${r.nodes} nodes: median ${r.medianMs.toFixed(1)} ms (runs ${r.runsMs.map((m) => m.toFixed(0)).join(', ')}); ${r.placed} placed, ${r.unplaced} unplaced`);
      return Promise.resolve(r.medianMs);
    },
    finish() {
      const r = figures;
      if (r === null) return Promise.reject(new Error('runPlacementBench() never ran'));
      return Promise.resolve({
        label: `place(): ${r.replicas} replicas on ${r.nodes} simulated nodes (${r.gpuNodes} with GPUs), runPlacementBench() of bench/placement-bench.ts (its own warm-up, then ${r.runsMs.length} timed runs)`,
        unit: 'ms',
        higherIsBetter: false,
        reps: r.runsMs,
        processes: [{ name: 'bench (scheduler in-process)', pid: process.pid, peakRssBytes: Math.max(r.peakRssBytes, selfPeakRssBytes()) }],
        details: { ...r, medianMsAsReportedByPlacementBench: r.medianMs },
      });
    },
  });
}

export const placementBench: BenchDefinition = {
  name: 'placement',
  description: 'scheduler: place 10,000 replicas on 5,000 simulated nodes',
  target: { text: `≤ ${TARGET_MS} ms`, check: ({ gridline }) => (gridline === null ? null : gridline.median <= TARGET_MS) },
  sides: { gridline: placement },
  rounds: () => ({ warmup: 0, reps: 1 }),
  timeoutMs: (o) => (o.quick ? 120_000 : 180_000),
};

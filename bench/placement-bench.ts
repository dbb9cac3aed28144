/**
 * Placement benchmark: 10,000 replicas on 5,000 simulated nodes (CPU-only and GPU nodes of
 * several shapes, a few not ready), place() timed over several runs.
 *
 *   node --import tsx bench/placement-bench.ts
 *
 * Prints the median time and peak RSS. Exits non-zero only when something throws (including a
 * plan that breaks the scheduler's invariants); there is no timing threshold.
 */
import { pathToFileURL } from 'node:url';
import {
  assertHonoursRequests,
  assertNoOvercommit,
  assertUnplacedFitNowhere,
  cluster,
  replica,
  type NodeSpec,
} from '../coordinator/scheduler/in-memory-cluster.js';
import { place } from '../coordinator/scheduler/place.js';
import type { NodeView, ReplicaRequest } from '../coordinator/scheduler/types.js';

export interface PlacementBenchOptions {
  readonly nodes?: number;
  readonly replicas?: number;
  readonly runs?: number;
  readonly seed?: number;
}

export interface PlacementBenchResult {
  readonly nodes: number;
  readonly gpuNodes: number;
  readonly replicas: number;
  readonly placed: number;
  readonly unplaced: number;
  /** Each run's wall time, in milliseconds, in run order. */
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  /** Peak resident set size of the process so far, in bytes. */
  readonly peakRssBytes: number;
}

/** Small deterministic PRNG (mulberry32) so every run benches the same cluster. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

const CPU_SHAPES: readonly NodeSpec[] = [
  { cpu: 16, memory: '64Gi' },
  { cpu: 32, memory: '128Gi' },
  { cpu: 64, memory: '256Gi' },
];

const GPU_SHAPES: readonly NodeSpec[] = [
  { cpu: 8, memory: '32Gi', gpus: ['T4-16GB'] },
  { cpu: 32, memory: '128Gi', gpus: ['A10-24GB', 'A10-24GB', 'A10-24GB', 'A10-24GB'] },
  { cpu: 96, memory: '1Ti', gpus: Array<string>(8).fill('A100-40GB') },
  { cpu: 96, memory: '1Ti', gpus: Array<string>(8).fill('A100-80GB') },
  { cpu: 128, memory: '2Ti', gpus: Array<string>(8).fill('H100-80GB') },
];

const ZONES = ['zone-a', 'zone-b', 'zone-c'] as const;

export function benchCluster(count: number, next: () => number): NodeView[] {
  const builder = cluster();
  for (let i = 0; i < count; i += 1) {
    const gpu = next() < 0.4;
    const shape = pick(next, gpu ? GPU_SHAPES : CPU_SHAPES);
    const roll = next();
    const state = roll < 0.005 ? 'draining' : roll < 0.01 ? 'lost' : 'ready';
    builder.node(`node-${String(i).padStart(5, '0')}`, {
      ...shape,
      state,
      labels: { zone: pick(next, ZONES), pool: gpu ? 'gpu' : 'general' },
    });
  }
  return builder.build();
}

export function benchRequests(count: number, next: () => number): ReplicaRequest[] {
  const requests: ReplicaRequest[] = [];
  let run = 0;
  while (requests.length < count) {
    // One stage of one run: 1 to 16 identical replicas spread across nodes.
    const group = `run-${run}/stage-${Math.floor(next() * 4)}`;
    run += 1;
    const replicas = Math.min(count - requests.length, 1 + Math.floor(next() * 16));
    const kind = next();
    const nodeSelector: Record<string, string> = next() < 0.2 ? { zone: pick(next, ZONES) } : {};
    const spec =
      kind < 0.55
        ? { cpu: pick(next, [0.5, 1, 2, 4]), memory: pick(next, ['1Gi', '2Gi', '4Gi', '8Gi']) }
        : kind < 0.8
          ? { cpu: 2, memory: '8Gi', gpu: next() < 0.9 ? 1 : 2, gpuMemory: pick(next, ['4Gi', '8Gi', '12Gi', '20Gi']) }
          : kind < 0.9
            ? { cpu: 8, memory: '64Gi', gpu: pick(next, [1, 1, 2, 4, 8]), gpuModel: pick(next, [null, 'A100', 'H100']) }
            : { cpu: 1, memory: '4Gi', gpu: 1, gpuMemory: '2Gi', gpuPolicy: 'preferred' as const };
    for (let r = 0; r < replicas; r += 1) {
      requests.push(replica(`${group}/${r}`, { ...spec, group, nodeSelector }));
    }
  }
  return requests;
}

export function runPlacementBench(options: PlacementBenchOptions = {}): PlacementBenchResult {
  const next = random(options.seed ?? 42);
  const nodes = benchCluster(options.nodes ?? 5000, next);
  const requests = benchRequests(options.replicas ?? 10_000, next);
  const runs = options.runs ?? 5;

  const runsMs: number[] = [];
  let result = place(nodes, [], requests); // warm-up: JIT, and the plan the invariants check
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    result = place(nodes, [], requests);
    runsMs.push(performance.now() - started);
  }
  assertNoOvercommit(nodes, [], result);
  assertHonoursRequests(nodes, requests, result);
  assertUnplacedFitNowhere(nodes, [], requests, result);

  const sorted = [...runsMs].sort((a, b) => a - b);
  return {
    nodes: nodes.length,
    gpuNodes: nodes.filter((node) => node.gpus.length > 0).length,
    replicas: requests.length,
    placed: result.placements.length,
    unplaced: result.unplaced.length,
    runsMs,
    medianMs: sorted[Math.floor(sorted.length / 2)]!,
    // maxRSS is in kilobytes.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = runPlacementBench();
  const runs = figures.runsMs.map((ms) => ms.toFixed(1)).join(', ');
  process.stdout.write(
    `place(): ${figures.replicas} replicas on ${figures.nodes} nodes (${figures.gpuNodes} with GPUs): ` +
      `median ${figures.medianMs.toFixed(1)} ms over ${figures.runsMs.length} runs (${runs}); ` +
      `${figures.placed} placed, ${figures.unplaced} unplaced; peak RSS ${(figures.peakRssBytes / 2 ** 20).toFixed(0)} MiB\n`,
  );
}

/**
 * Every benchmark bench/run.ts knows, in the order they run. Loaded on demand, so a side's child
 * process loads its own benchmark's modules only (they count in its peak RSS).
 */
import type { BenchDefinition } from './harness.js';

export interface BenchEntry {
  readonly name: string;
  load(): Promise<BenchDefinition>;
}

export const BENCHES: readonly BenchEntry[] = [
  { name: 'pipeline-trivial', load: async () => (await import('./pipeline-trivial.js')).pipelineTrivialBench },
  { name: 'pipeline-ocr', load: async () => (await import('./pipeline-ocr.js')).pipelineOcrBench },
  { name: 'placement', load: async () => (await import('./placement.js')).placementBench },
];

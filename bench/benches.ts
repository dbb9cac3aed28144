/** Every benchmark bench/run.ts knows, in the order they run. */
import type { BenchDefinition } from './harness.js';
import { pipelineOcrBench } from './pipeline-ocr.js';
import { pipelineTrivialBench } from './pipeline-trivial.js';
import { placementBench } from './placement.js';

export const BENCHES: readonly BenchDefinition[] = [pipelineTrivialBench, pipelineOcrBench, placementBench];

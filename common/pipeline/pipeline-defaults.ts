import type { BatchingSpec, ChunkingSpec, ResourceRequest, RetryPolicy } from './types.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Stage settings whose default depends on the stage type. */
export interface StageTypeDefaults {
  readonly concurrency: number;
  readonly resources: ResourceRequest;
}

/** Every default `normalizePipeline` fills in; the JSON Schema shows the same values. */
export const PIPELINE_DEFAULTS = {
  chunking: { maxItems: 16, maxBytes: 8 * MiB } satisfies ChunkingSpec,
  replicas: 1,
  retry: { attempts: 3, backoffMs: 500 } satisfies RetryPolicy,
  batching: { maxBatchSize: 8, maxDelayMs: 5 } satisfies BatchingSpec,
  expose: false,
  preprocessing: {
    concurrency: 2,
    resources: { cpu: 0.5, memory: 256 * MiB, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' },
  } satisfies StageTypeDefaults,
  'model-serving': {
    concurrency: 1,
    resources: { cpu: 1, memory: 1 * GiB, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' },
  } satisfies StageTypeDefaults,
} as const;

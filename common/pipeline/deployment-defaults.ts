import type { ServingBatching } from './deployment-types.js';
import type { ResourceRequest } from './types.js';

const MiB = 2 ** 20;

/** Every default `normalizeDeployment` fills in; the JSON Schema shows the same values. */
export const DEPLOYMENT_DEFAULTS = {
  version: '1',
  replicas: 1,
  resources: { cpu: 1, memory: 512 * MiB, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' } satisfies ResourceRequest,
  // Triton-like: no wait to fill a batch (batches grow while the model is busy), a bounded queue
  // so overload is refused at once, not queued.
  batching: { maxBatchSize: 8, maxDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 256, timeoutMs: 30_000, batchDims: {} } satisfies ServingBatching,
} as const;

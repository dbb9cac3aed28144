import { deepFreeze } from '../json.js';
import { parseCpu, parseQuantity } from '../quantity.js';
import { DEPLOYMENT_DEFAULTS } from './deployment-defaults.js';
import type { DeploymentDocument } from './deployment-document-schema.js';
import type { ModelDeploymentSpec } from './deployment-types.js';

/** Fills every default of a checked ModelDeployment document and freezes it. */
export function normalizeDeployment(doc: DeploymentDocument): ModelDeploymentSpec {
  const { model, resources: r, batching: b } = doc.spec;
  const d = DEPLOYMENT_DEFAULTS;
  const bytes = (q: string | number | undefined): number | undefined => (q === undefined ? undefined : Math.ceil(parseQuantity(q)));
  const spec: ModelDeploymentSpec = {
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    metadata: { name: doc.metadata.name, labels: { ...doc.metadata.labels } },
    model: { name: model.name, version: model.version ?? d.version, runtime: model.runtime, uri: model.uri },
    replicas: doc.spec.replicas ?? d.replicas,
    resources: {
      cpu: r?.cpu === undefined ? d.resources.cpu : parseCpu(r.cpu),
      memory: bytes(r?.memory) ?? d.resources.memory,
      gpu: r?.gpu ?? d.resources.gpu,
      gpuMemory: bytes(r?.gpuMemory) ?? d.resources.gpuMemory,
      gpuModel: r?.gpuModel ?? d.resources.gpuModel,
      gpuPolicy: r?.gpuPolicy ?? d.resources.gpuPolicy,
    },
    nodeSelector: { ...doc.spec.nodeSelector },
    batching: {
      maxBatchSize: b?.maxBatchSize ?? d.batching.maxBatchSize,
      maxDelayMs: b?.maxDelayMs ?? d.batching.maxDelayMs,
      preferredBatchSizes: [...new Set(b?.preferredBatchSizes ?? [])].sort((x, y) => x - y),
      maxQueueSize: b?.maxQueueSize ?? d.batching.maxQueueSize,
      timeoutMs: b?.timeoutMs ?? d.batching.timeoutMs,
      batchDims: { ...b?.batchDims },
    },
    warmUpShapes: { ...doc.spec.warmUp?.shapes },
  };
  return deepFreeze(spec);
}

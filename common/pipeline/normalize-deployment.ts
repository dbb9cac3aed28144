import { deepFreeze } from '../json.js';
import { DEPLOYMENT_DEFAULTS } from './deployment-defaults.js';
import type { DeploymentDocument } from './deployment-document-schema.js';
import type { ModelDeploymentSpec } from './deployment-types.js';
import { normalizeResources } from './normalize-pipeline.js';

/** Fills every default of a checked ModelDeployment document and freezes it. */
export function normalizeDeployment(doc: DeploymentDocument): ModelDeploymentSpec {
  const { model, resources: r, batching: b } = doc.spec;
  const d = DEPLOYMENT_DEFAULTS;
  const spec: ModelDeploymentSpec = {
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    metadata: { name: doc.metadata.name, labels: { ...doc.metadata.labels } },
    model: { name: model.name, version: model.version ?? d.version, runtime: model.runtime, uri: model.uri },
    replicas: doc.spec.replicas ?? d.replicas,
    resources: normalizeResources(r, d.resources),
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

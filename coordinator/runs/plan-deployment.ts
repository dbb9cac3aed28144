import type { ModelDeploymentSpec } from '../../common/pipeline/deployment-types.js';
import type { RunPlan } from './plan-run.js';

/** The single "stage" of a deployment: its replicas serve the model, no queue feeds them. */
export const SERVE_STAGE = 'serve';

/**
 * A model deployment as a run plan: one stage of `model-server` replicas, each placed like any
 * stage replica and serving the model at its node's OIP model server. Pure.
 */
export function planDeployment(runId: string, spec: ModelDeploymentSpec, keyPrefix: string): RunPlan {
  const stage = { name: SERVE_STAGE, kind: 'model-server' as const, queue: '', next: null, replicas: spec.replicas };
  const assignments = Array.from({ length: spec.replicas }, (_, r) => {
    const replicaId = `${runId}.${SERVE_STAGE}.${r}`;
    return {
      replicaId, runId, stage: SERVE_STAGE, kind: 'model-server' as const, nodeId: null, phase: 'pending' as const, message: '',
      cpu: 0, memory: 0, gpus: [],
      // The group spreads a deployment's replicas over nodes: one node's model server serves a model once.
      request: { replicaId, group: `${runId}/${SERVE_STAGE}`, resources: spec.resources, nodeSelector: spec.nodeSelector },
      spec: {
        replicaId, runId, stage: SERVE_STAGE, kind: 'model-server' as const,
        queue: '', nextQueue: null, nextStage: null, keyPrefix,
        chunking: { maxItems: 1, maxBytes: 1 },
        source: null, sink: null, userStage: null,
        serving: { model: spec.model, batching: spec.batching, warmUpShapes: spec.warmUpShapes },
        concurrency: 1,
        retry: { attempts: 1, backoffMs: 0 },
      },
      unplacedSince: null,
      unplacedReason: null,
    };
  });
  return { stages: [stage], assignments };
}

import { stageQueueName } from '../../common/keys.js';
import type { ModelServingStage, PipelineSpec, ResourceRequest, RetryPolicy } from '../../common/pipeline/types.js';
import type { ServingSpec } from '../../common/replica-spec.js';
import type { PlannedStage, StageKind } from '../../common/run-types.js';
import type { ReplicaRequest } from '../scheduler/types.js';
import type { Assignment } from './assignment.js';

/** Source and sink are light: one replica each, a sliver of a core. */
const LIGHT: ResourceRequest = Object.freeze({ cpu: 0.05, memory: 128 * 1024 * 1024, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' });
const LIGHT_RETRY: RetryPolicy = Object.freeze({ attempts: 5, backoffMs: 500 });

export interface RunPlan {
  readonly stages: readonly PlannedStage[];
  readonly assignments: readonly Assignment[];
}

/**
 * Turns a validated pipeline into the run's stages (source → user stages → sink, each with its
 * queue) and one unplaced assignment per replica. Pure: placement happens later, in reconcile.
 */
export function planRun(runId: string, spec: PipelineSpec, keyPrefix: string): RunPlan {
  type Draft = { name: string; kind: StageKind; replicas: number; concurrency: number; resources: ResourceRequest; nodeSelector: Readonly<Record<string, string>>; retry: RetryPolicy };
  const drafts: Draft[] = [
    { name: 'source', kind: 'source', replicas: 1, concurrency: 1, resources: LIGHT, nodeSelector: {}, retry: LIGHT_RETRY },
    ...spec.stages.map((s): Draft => ({ name: s.name, kind: s.type, replicas: s.replicas, concurrency: s.concurrency, resources: s.resources, nodeSelector: s.nodeSelector, retry: s.retry })),
    { name: 'sink', kind: 'sink', replicas: 1, concurrency: 1, resources: LIGHT, nodeSelector: {}, retry: LIGHT_RETRY },
  ];
  const stages: PlannedStage[] = drafts.map((d, i) => ({
    name: d.name,
    kind: d.kind,
    queue: stageQueueName(runId, d.name),
    next: drafts[i + 1]?.name ?? null,
    replicas: d.replicas,
  }));
  const assignments: Assignment[] = [];
  const constraints = stageConstraints(runId, spec);
  drafts.forEach((d, i) => {
    const nextDraft = drafts[i + 1];
    for (let r = 0; r < d.replicas; r++) {
      const replicaId = `${runId}.${d.name}.${r}`;
      const userStage = spec.stages.find((s) => s.name === d.name) ?? null;
      assignments.push({
        replicaId, runId, stage: d.name, kind: d.kind, nodeId: null, phase: 'pending', message: '',
        cpu: 0, memory: 0, gpus: [],
        request: { replicaId, group: groupOf(runId, d.name), resources: d.resources, nodeSelector: d.nodeSelector, ...constraints.get(d.name) },
        spec: {
          replicaId, runId, stage: d.name, kind: d.kind,
          queue: stages[i]!.queue,
          nextQueue: stages[i + 1]?.queue ?? null,
          nextStage: nextDraft?.name ?? null,
          keyPrefix,
          chunking: spec.chunking,
          source: d.kind === 'source' ? spec.source : null,
          sink: d.kind === 'sink' ? spec.sink : null,
          userStage,
          lineageRunId: spec.replay?.of ?? runId,
          sourceKeys: d.kind === 'source' ? spec.replay?.keys ?? null : null,
          serving: userStage?.type === 'model-serving' && userStage.expose ? exposedServing(userStage) : null,
          concurrency: d.concurrency,
          // Jobs added to the next queue carry that stage's retry policy.
          retry: nextDraft?.retry ?? d.retry,
        },
        unplacedSince: null,
        unplacedReason: null,
      });
    }
  });
  return { stages, assignments };
}

/** A stage's placement group: its replicas spread across nodes, and constraints name it. */
function groupOf(runId: string, stage: string): string {
  return `${runId}/${stage}`;
}

type StageConstraints = Pick<ReplicaRequest, 'affinity' | 'antiAffinity'>;

/**
 * Per user stage with any, its affinity and anti-affinity as the scheduler's group ids, one pair
 * of arrays shared by the stage's replicas. Anti-affinity is made mutual: the scheduler checks
 * a constraint only when the replica that carries it is placed, so a stage the user named must
 * also avoid the one that named it, or placing it later (a replica re-placed after its node was
 * lost) could land it beside it.
 */
function stageConstraints(runId: string, spec: PipelineSpec): Map<string, StageConstraints> {
  const avoided = new Map<string, Set<string>>(spec.stages.map((s) => [s.name, new Set(s.antiAffinity)]));
  for (const stage of spec.stages) for (const name of stage.antiAffinity) avoided.get(name)?.add(stage.name);
  const out = new Map<string, StageConstraints>();
  for (const stage of spec.stages) {
    const affinity = [...new Set(stage.affinity)].sort().map((name) => groupOf(runId, name));
    const antiAffinity = [...(avoided.get(stage.name) ?? [])].sort().map((name) => groupOf(runId, name));
    if (affinity.length === 0 && antiAffinity.length === 0) continue;
    out.set(stage.name, {
      ...(affinity.length > 0 ? { affinity } : {}),
      ...(antiAffinity.length > 0 ? { antiAffinity } : {}),
    });
  }
  return out;
}

/**
 * An exposed model stage serves its model online under the model's name, version 1, with the
 * stage's batching; pipeline items share the batcher at a lower priority than online requests.
 */
function exposedServing(stage: ModelServingStage): ServingSpec {
  return {
    model: { name: stage.model.name, version: '1', runtime: stage.model.runtime, uri: stage.model.uri },
    batching: {
      maxBatchSize: stage.batching.maxBatchSize, maxDelayMs: stage.batching.maxDelayMs, preferredBatchSizes: [],
      maxQueueSize: 1024, timeoutMs: 30_000, batchDims: {},
    },
    warmUpShapes: {},
  };
}

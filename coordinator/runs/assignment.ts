import type { AssignmentRecord } from '../../common/run-types.js';
import type { ReplicaSpec } from '../../common/replica-spec.js';
import type { ReplicaRequest } from '../scheduler/types.js';

/** A stage replica the coordinator wants running: what to run, what it needs, where it is. */
export interface Assignment extends AssignmentRecord {
  readonly request: ReplicaRequest;
  /** Spec sent to the node, without the GPU grant (added at bind time). */
  readonly spec: Omit<ReplicaSpec, 'gpuIndexes'>;
  /** When the replica became unplaceable (ms since epoch), for the unschedulable timeout. */
  readonly unplacedSince: number | null;
  readonly unplacedReason: string | null;
  /** Times a serving replica failed in a row and was placed again (deployments only). */
  readonly restarts?: number;
  /** Not placed again before this time (ms since epoch): the backoff after a failure. */
  readonly notBefore?: number;
}

export function publicAssignment(a: Assignment): AssignmentRecord {
  return {
    replicaId: a.replicaId, runId: a.runId, stage: a.stage, kind: a.kind, nodeId: a.nodeId,
    phase: a.phase, message: a.message, cpu: a.cpu, memory: a.memory, gpus: a.gpus,
  };
}

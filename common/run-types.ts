import type { WorkloadSpec } from './pipeline/workload.js';

/** Lifecycle of a run; `pending` waits for placement, the last three are final. */
export type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

/** `model-server`: a ModelDeployment replica, serving its model online (no queue). */
export type StageKind = 'source' | 'preprocessing' | 'model-serving' | 'sink' | 'model-server';

export interface StageCounters {
  readonly queued: number;
  readonly active: number;
  readonly completed: number;
  readonly failed: number;
}

export interface PlannedStage {
  readonly name: string;
  readonly kind: StageKind;
  readonly queue: string;
  /** Name of the stage this one feeds (null for the sink). */
  readonly next: string | null;
  readonly replicas: number;
}

/**
 * A submitted workload: a pipeline run, which ends when its items are through, or a model
 * deployment, which serves until it is deleted (cancelled).
 */
export interface RunRecord {
  readonly id: string;
  /** The document's metadata.name. */
  readonly pipeline: string;
  readonly status: RunStatus;
  /** Why the run is pending or failed. */
  readonly reason: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly stages: readonly PlannedStage[];
  readonly spec: WorkloadSpec;
}

export interface RunView extends Omit<RunRecord, 'spec'> {
  /** `failed` items are dead-lettered (`deadLettered` counts the distinct items kept for replay). */
  readonly items: { readonly total: number | null; readonly completed: number; readonly failed: number; readonly deadLettered: number };
  readonly counters: Readonly<Record<string, StageCounters>>;
  readonly replicas: readonly AssignmentRecord[];
  readonly errors: readonly { readonly stage: string; readonly itemId: string; readonly key: string; readonly code: string; readonly message: string }[];
  /** The kind of the document (Pipeline or ModelDeployment). */
  readonly kind: WorkloadSpec['kind'];
  /** Null for a model deployment. */
  readonly sinkPath: string | null;
  /** For a model deployment (null otherwise): the model it serves and how many replicas are ready. */
  readonly serving: { readonly model: string; readonly version: string; readonly ready: number; readonly replicas: number } | null;
}

/**
 * An item that failed for good (bad input, a model error, retries used up), kept with the error
 * and its source key so `gridline dlq replay` can send it through the pipeline again.
 */
export interface DeadLetter {
  readonly stage: string;
  readonly itemId: string;
  /** The source key (a file path relative to the source folder). */
  readonly key: string;
  readonly code: string;
  readonly message: string;
  /** When it failed (ISO time). */
  readonly at: string;
}

export type NodeState = 'ready' | 'disconnected' | 'draining' | 'lost';

export interface NodeRecord {
  readonly id: string;
  readonly hostname: string;
  readonly state: NodeState;
  readonly cpu: number;
  readonly memory: number;
  readonly gpus: readonly { readonly index: number; readonly uuid: string; readonly model: string; readonly memory: number; readonly simulated: boolean }[];
  readonly labels: Readonly<Record<string, string>>;
  readonly registeredAt: string;
  readonly lastHeartbeatAt: string;
  readonly agentVersion: string;
  /** host:port of the node's OIP gRPC model server, or null. */
  readonly inferenceAddress: string | null;
  readonly servedModels: readonly { readonly name: string; readonly version: string }[];
}

export type ReplicaPhase = 'pending' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface AssignmentRecord {
  readonly replicaId: string;
  readonly runId: string;
  readonly stage: string;
  readonly kind: StageKind;
  /** Null while unplaced. */
  readonly nodeId: string | null;
  readonly phase: ReplicaPhase;
  readonly message: string;
  readonly cpu: number;
  readonly memory: number;
  readonly gpus: readonly { readonly index: number; readonly memory: number }[];
}

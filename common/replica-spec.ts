import type { DeployedModel, ServingBatching } from './pipeline/deployment-types.js';
import type { ChunkingSpec, SinkSpec, SourceSpec, UserStage } from './pipeline/types.js';
import type { StageKind } from './run-types.js';

/** What a worker needs to run one stage replica; sent as JSON in StartReplica.spec_json. */
export interface ReplicaSpec {
  readonly replicaId: string;
  readonly runId: string;
  readonly stage: string;
  readonly kind: StageKind;
  readonly queue: string;
  /** Queue the stage's output goes to (null for the sink). */
  readonly nextQueue: string | null;
  readonly nextStage: string | null;
  readonly keyPrefix: string;
  readonly chunking: ChunkingSpec;
  readonly source: SourceSpec | null;
  readonly sink: SinkSpec | null;
  readonly userStage: UserStage | null;
  readonly concurrency: number;
  readonly retry: { readonly attempts: number; readonly backoffMs: number };
  /**
   * What the replica serves online at its node's model server: set for a ModelDeployment replica
   * (kind `model-server`, which has no queue) and for a model stage with `expose: true`.
   */
  readonly serving: ServingSpec | null;
  /**
   * The run whose identity items carry (ids, sink lines): the run itself, or for a replay the
   * run it continues. Absent in specs written before replays existed.
   */
  readonly lineageRunId?: string;
  /** For a replay's source: only these keys are read (null or absent: every file). */
  readonly sourceKeys?: readonly string[] | null;
  /** GPU indexes granted to this replica (empty: CPU). */
  readonly gpuIndexes: readonly number[];
}

/** A model a replica serves at its node's OIP model server. */
export interface ServingSpec {
  readonly model: DeployedModel;
  readonly batching: ServingBatching;
  readonly warmUpShapes: Readonly<Record<string, readonly number[]>>;
}

/**
 * What the scheduler reads (a view of the cluster and the replicas to place) and what it returns
 * (a plan). Plain data: the scheduler never talks to nodes itself.
 */
import type { ResourceRequest } from '../../common/pipeline/types.js';

export interface GpuView {
  readonly index: number;
  /** As the node reports it, e.g. `NVIDIA A100-SXM4-80GB`. */
  readonly model: string;
  /** Total memory in bytes. */
  readonly memory: number;
}

export type NodeState = 'ready' | 'draining' | 'lost' | 'disconnected';

export interface NodeView {
  readonly id: string;
  /** Only `ready` nodes receive new replicas. */
  readonly state: NodeState;
  /** Capacity in cores. */
  readonly cpu: number;
  /** Capacity in bytes. */
  readonly memory: number;
  readonly gpus: readonly GpuView[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface ReplicaRequest {
  readonly replicaId: string;
  /** Replicas of one group (e.g. `${runId}/${stage}`) are spread across nodes. */
  readonly group: string;
  readonly resources: ResourceRequest;
  /** Node labels that must all match (key = value). */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /**
   * Groups of which the chosen node must already run at least one replica (from `existing` or
   * placed earlier in the same call; `place` handles a group's affinity targets first).
   */
  readonly affinity?: readonly string[];
  /**
   * Groups of which the chosen node must run no replica; the request's own group means one
   * replica per node. Checked when this replica is placed only: a replica of a named group that
   * is placed later goes wherever its own request allows, so name the relation on both sides for
   * it to hold both ways (planRun does).
   */
  readonly antiAffinity?: readonly string[];
}

export interface GpuClaim {
  readonly index: number;
  /** Bytes claimed on that GPU: the request's gpuMemory, or the GPU's whole memory. */
  readonly memory: number;
}

export interface Placement {
  readonly replicaId: string;
  readonly nodeId: string;
  /** Cores claimed. */
  readonly cpu: number;
  /** Bytes claimed. */
  readonly memory: number;
  /** Empty for a CPU replica (including a `preferred` GPU request that fell back to CPU). */
  readonly gpus: readonly GpuClaim[];
  /**
   * The request's group. `place` always sets it; pass placements back as `existing` with it so
   * later calls spread new replicas away from the nodes that already run the group.
   */
  readonly group?: string;
}

export interface UnplacedReason {
  readonly nodeId: string;
  readonly reason: string;
}

export interface Unplaced {
  readonly replicaId: string;
  /** One sentence: which resource is short, or which constraint rules a node out, on which nodes. */
  readonly summary: string;
  /** One entry per node (all nodes given, ready or not), sorted by node id. */
  readonly reasons: readonly UnplacedReason[];
}

export interface PlacementResult {
  /** In the order the requests were handled (GPU-heavy first, then by replicaId). */
  placements: Placement[];
  /** In the order the requests were handled. */
  unplaced: Unplaced[];
}

import type { Logger } from '../common/logger.js';
import type { ReplicaSpec } from '../common/replica-spec.js';
import type { ReplicaPhase as ProtoPhase } from '../proto/generated/gridline/cluster/v1/ReplicaPhase.js';
import type { ReplicaState } from '../proto/generated/gridline/cluster/v1/ReplicaState.js';
import { resolveFileAccess, type FileAccess } from '../services/file-access/file-access.js';
import type { Redis } from '../services/queue/redis-connection.js';
import { startStageReplica, type ReplicaRunPhase, type StageReplica } from '../services/stages/stage-replica.js';
import type { RuntimeCache } from '../services/model-serving/runtime-cache.js';
import type { ServingHost } from '../services/model-serving/serving-host.js';
import { startServingReplica } from './serving-replica.js';
import type { GpuInfo } from './gpu/gpu-info.js';

const PROTO_PHASE: Record<ReplicaRunPhase, ProtoPhase> = {
  starting: 'REPLICA_PHASE_STARTING',
  running: 'REPLICA_PHASE_RUNNING',
  draining: 'REPLICA_PHASE_DRAINING',
  stopped: 'REPLICA_PHASE_STOPPED',
  failed: 'REPLICA_PHASE_FAILED',
};

interface Slot {
  readonly spec: ReplicaSpec;
  replica: StageReplica | null;
  starting: Promise<void>;
  /** Set when the replica could not even be created. */
  failure: string | null;
  /** Its online serving is being withdrawn (node stopping): reported as draining. */
  servingDrain: boolean;
  /** Set by the first stop: a Stop sent again (every heartbeat until it ends) joins it. */
  stopping: Promise<void> | null;
}

/**
 * The stage replicas running on this node. Start and stop are idempotent by replica id, so the
 * coordinator can resend its assignments after any reconnect without double-starting anything.
 */
export class ReplicaHost {
  private readonly slots = new Map<string, Slot>();
  /** Set once the node is shutting down: no replica starts after that. */
  private closing = false;

  constructor(
    private readonly redis: () => Redis,
    private readonly gpus: readonly GpuInfo[],
    private readonly logger: Logger,
    private readonly onChange: (state: ReplicaState) => void,
    private readonly runtimes: RuntimeCache,
    private readonly serving: ServingHost,
    /** Default: the working directory only, no op modules. */
    private readonly access: FileAccess = resolveFileAccess(),
  ) {}

  start(spec: ReplicaSpec): void {
    const existing = this.slots.get(spec.replicaId);
    // A failed replica started again (the coordinator restarts it under the same id, and its
    // Stop may have been lost with the stream) gets a fresh slot; anything else is a resend.
    if (existing !== undefined && (existing.failure !== null || existing.replica?.phase === 'failed')) {
      this.slots.delete(spec.replicaId);
      void existing.replica?.stop(false).catch(() => undefined);
    }
    if (this.closing || this.slots.has(spec.replicaId)) return;
    const granted = this.gpus.filter((g) => spec.gpuIndexes.includes(g.index));
    // Simulated GPUs exist for scheduling only: the model still runs on the CPU provider.
    const useGpu = granted.length > 0 && granted.every((g) => !g.simulated);
    if (granted.length > 0 && !useGpu) {
      this.logger.info({ replica: spec.replicaId, gpus: spec.gpuIndexes }, 'replica granted simulated GPUs: running on CPU');
    }
    const slot: Slot = { spec, replica: null, starting: Promise.resolve(), failure: null, servingDrain: false, stopping: null };
    this.slots.set(spec.replicaId, slot);
    this.onChange(this.stateOf(spec, 'starting', ''));
    const onPhase = (r: StageReplica): void => {
      if (slot.servingDrain && r.phase !== 'stopped') return;
      this.onChange(this.stateOf(spec, r.phase, r.message, r.processed));
    };
    const started = spec.kind === 'model-server'
      ? Promise.resolve(startServingReplica(spec, { serving: this.serving, useGpu, logger: this.logger, onPhase }))
      : startStageReplica(spec, { redis: this.redis(), logger: this.logger, useGpu, runtimes: this.runtimes, serving: this.serving, onPhase, access: this.access });
    slot.starting = started.then((replica) => {
      slot.replica = replica;
      onPhase(replica);
    }, (err: unknown) => {
      this.logger.error({ err, replica: spec.replicaId }, 'starting a replica failed');
      slot.failure = String((err as Error).message);
      this.onChange(this.stateOf(spec, 'failed', slot.failure));
    });
  }

  stop(replicaId: string, drain: boolean): Promise<void> {
    const slot = this.slots.get(replicaId);
    if (!slot) return Promise.resolve();
    // Stopping twice would release a serving replica's model hold twice, or close a consumer
    // mid-drain with force.
    slot.stopping ??= (async () => {
      await slot.starting;
      await slot.replica?.stop(drain);
      if (this.slots.get(replicaId) === slot) this.slots.delete(replicaId);
      this.onChange(this.stateOf(slot.spec, 'stopped', ''));
    })();
    return slot.stopping;
  }

  /**
   * Reports every replica that serves a model online as draining, so the coordinator withdraws
   * its routes while it still answers; returns how many. Refuses new replicas from now on.
   */
  drainServing(): number {
    this.closing = true;
    let count = 0;
    for (const slot of this.slots.values()) {
      if (slot.spec.serving === null || slot.spec.serving === undefined || slot.failure !== null) continue;
      slot.servingDrain = true;
      count += 1;
      this.onChange(this.stateOf(slot.spec, 'draining', 'node stopping', slot.replica?.processed ?? 0));
    }
    return count;
  }

  /** Stops every replica and refuses new ones (node shutdown). */
  async stopAll(drain: boolean): Promise<void> {
    this.closing = true;
    const results = await Promise.allSettled([...this.slots.keys()].map((id) => this.stop(id, drain)));
    for (const r of results) if (r.status === 'rejected') this.logger.error({ err: r.reason }, 'stopping a replica failed');
  }

  states(): ReplicaState[] {
    return [...this.slots.values()].map((s) => s.failure !== null
      ? this.stateOf(s.spec, 'failed', s.failure)
      : s.servingDrain && s.replica?.phase !== 'stopped'
        ? this.stateOf(s.spec, 'draining', 'node stopping', s.replica?.processed ?? 0)
        : this.stateOf(s.spec, s.replica?.phase ?? 'starting', s.replica?.message ?? '', s.replica?.processed ?? 0));
  }

  private stateOf(spec: ReplicaSpec, phase: ReplicaRunPhase, message: string, processed = 0): ReplicaState {
    return { replicaId: spec.replicaId, runId: spec.runId, stage: spec.stage, phase: PROTO_PHASE[phase], message, processed: String(processed) };
  }
}

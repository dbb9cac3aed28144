import { randomBytes } from 'node:crypto';
import { GridlineError } from '../../common/errors.js';
import { SOURCE_DONE_FIELD, SOURCE_TOTAL_FIELD } from '../../common/job-payload.js';
import type { Logger } from '../../common/logger.js';
import type { WorkloadSpec } from '../../common/pipeline/workload.js';
import type { ReplicaSpec } from '../../common/replica-spec.js';
import { FINAL_RUN_STATUSES, type DeadLetter, type NodeRecord, type ReplicaPhase, type RunRecord, type RunStatus, type RunView, type StageCounters } from '../../common/run-types.js';
import type { CoordinatorMessage } from '../../proto/generated/gridline/cluster/v1/CoordinatorMessage.js';
import type { RunQueues } from '../queues/run-queues.js';
import type { NodeRegistry } from '../registry/node-registry.js';
import { place } from '../scheduler/place.js';
import type { Placement, PlacementResult } from '../scheduler/types.js';
import type { CoordinatorStore } from '../store/coordinator-store.js';
import { publicAssignment, type Assignment } from './assignment.js';
import { AssignmentTable } from './assignment-table.js';
import { planDeployment } from './plan-deployment.js';
import { planRun, type RunPlan } from './plan-run.js';

const LATE_CLEANUP_MS = 60_000;
const STOP_WAIT_MS = 3_000;
/** A deployment replica that fails this many times in a row, never reaching running, fails its deployment. */
const MAX_SERVING_RESTARTS = 3;

function planWorkload(runId: string, spec: WorkloadSpec, keyPrefix: string): RunPlan {
  return spec.kind === 'ModelDeployment' ? planDeployment(runId, spec, keyPrefix) : planRun(runId, spec, keyPrefix);
}

/** The model names a workload serves online. */
function servedNames(spec: WorkloadSpec): string[] {
  return spec.kind === 'ModelDeployment'
    ? [spec.model.name]
    : spec.stages.flatMap((s) => (s.type === 'model-serving' && s.expose ? [s.model.name] : []));
}

/** A replica serving a model online, as routes see it. */
export interface ServingReplica {
  readonly replicaId: string;
  readonly nodeId: string;
  readonly model: string;
  readonly version: string;
  readonly running: boolean;
}

function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void work.catch(() => undefined).finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Sends a control message to a node over its stream; false when the node is not connected. */
export interface NodeChannel {
  send(nodeId: string, message: CoordinatorMessage): boolean;
}

export interface RunManagerSettings {
  readonly keyPrefix: string;
  readonly reconcileIntervalMs: number;
  /** A run whose replicas cannot be placed for this long fails, saying what is short. */
  readonly unschedulableTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
}

export interface ReportedReplica {
  readonly replicaId: string;
  readonly phase: ReplicaPhase;
  readonly message: string;
}

/**
 * Owns runs and their replica assignments. A reconcile loop compares what should run with what
 * does: it places unbound replicas, re-places those of lost nodes, starts runs, notices failures
 * and completion, and cleans up. The loop logs and goes on; it never dies on an error.
 */
export class RunManager {
  private readonly runs = new Map<string, RunRecord>();
  private readonly assignments = new AssignmentTable();
  /** When each assignment was last sent to its node (memory only: resent after a restart). */
  private readonly sentAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private reconciling: Promise<void> | null = null;
  private stopped = false;
  private readonly cleanups = new Map<string, { timer: NodeJS.Timeout; run: () => Promise<void> }>();

  constructor(
    private readonly store: CoordinatorStore,
    private readonly registry: NodeRegistry,
    private readonly queues: RunQueues,
    private readonly channel: NodeChannel,
    private readonly settings: RunManagerSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    registry.on('lost', (node) => this.onNodeLost(node));
  }

  async load(): Promise<void> {
    for (const run of await this.store.loadRuns()) this.runs.set(run.id, run);
    const orphans: string[] = [];
    for (const a of await this.store.loadAssignments()) {
      const run = this.runs.get(a.runId);
      // A crash between ending a run and deleting its assignments must not revive its replicas.
      if (!run || FINAL_RUN_STATUSES.includes(run.status)) orphans.push(a.replicaId);
      else this.assignments.set(a.replicaId, a);
    }
    await this.store.deleteAssignments(orphans);
    // The source job has a fixed id: re-adding it is a no-op unless a crash lost it.
    for (const run of this.runs.values()) {
      if (!FINAL_RUN_STATUSES.includes(run.status) && run.spec.kind !== 'ModelDeployment') await this.queues.startSource(run.id, run.stages[0]!.queue);
    }
    this.logger.info({ runs: this.runs.size, assignments: this.assignments.size, orphans: orphans.length }, 'coordinator state loaded from Redis');
  }

  start(): void {
    this.timer = setInterval(() => void this.reconcileNow(), this.settings.reconcileIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Bounded: with Redis gone, a pass waits on commands forever; shutdown must not.
    await withinMs(this.reconciling ?? Promise.resolve(), STOP_WAIT_MS);
    // Cleanups still waiting for their delay run now, so a short-lived cluster leaves no queues.
    const due = [...this.cleanups.values()];
    this.cleanups.clear();
    await withinMs(Promise.all(due.map((c) => {
      clearTimeout(c.timer);
      return c.run();
    })), STOP_WAIT_MS);
  }

  async submit(spec: WorkloadSpec): Promise<RunRecord> {
    this.checkServedNames(spec);
    const id = `${spec.metadata.name}-${new Date(this.now()).toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
    const plan = planWorkload(id, spec, this.settings.keyPrefix);
    const run: RunRecord = {
      id, pipeline: spec.metadata.name, status: 'pending', reason: 'waiting for placement',
      createdAt: new Date(this.now()).toISOString(), startedAt: null, finishedAt: null,
      stages: plan.stages, spec,
    };
    // Taken before the first await, so a concurrent submit of the same model sees it (checkServedNames).
    this.runs.set(id, run);
    try {
      await this.store.saveAssignments(plan.assignments);
      await this.store.saveRun(run);
    } catch (err) {
      this.runs.delete(id);
      throw err;
    }
    for (const a of plan.assignments) this.assignments.set(a.replicaId, a);
    // Queued now, processed once the source replica is up: the queue is the hand-off.
    if (spec.kind === 'Pipeline') await this.queues.startSource(id, plan.stages[0]!.queue);
    this.logger.info({ run: id, kind: spec.kind, stages: plan.stages.length, replicas: plan.assignments.length }, `${spec.kind === 'Pipeline' ? 'run' : 'model deployment'} submitted`);
    void this.reconcileNow();
    return run;
  }

  /** What placement would do for a pipeline right now, without changing anything. */
  preview(spec: WorkloadSpec): { stages: RunRecord['stages']; placement: PlacementResult } {
    const plan = planWorkload('preview', spec, this.settings.keyPrefix);
    const placement = place(this.registry.views(), this.boundPlacements(), plan.assignments.map((a) => a.request));
    return { stages: plan.stages, placement };
  }

  async cancel(runId: string): Promise<RunRecord> {
    const run = this.requireRun(runId);
    if (FINAL_RUN_STATUSES.includes(run.status)) {
      throw new GridlineError('CONFLICT', `run ${runId} already ended (${run.status})`);
    }
    return this.finish(run, 'cancelled', 'cancelled by request');
  }

  getRun(runId: string): RunRecord | undefined {
    return this.runs.get(runId);
  }

  listRuns(): RunRecord[] {
    return [...this.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async view(runId: string): Promise<RunView> {
    const run = this.requireRun(runId);
    const raw = await this.store.runCounters(runId);
    const num = (field: string): number => Number(raw[field] ?? 0);
    const counters: Record<string, StageCounters> = {};
    for (const stage of run.stages) {
      const added = stage.kind === 'source' ? num(SOURCE_TOTAL_FIELD) : num(`${stage.name}:queued`);
      const completed = num(`${stage.name}:completed`);
      const failed = num(`${stage.name}:failed`);
      const active = Math.max(0, num(`${stage.name}:active`));
      counters[stage.name] = { queued: Math.max(0, added - completed - failed - active), active, completed, failed };
    }
    const failed = run.stages.reduce((sum, s) => sum + (counters[s.name]?.failed ?? 0), 0);
    const errors = (await this.store.runErrors(runId, 20)).map((e) => JSON.parse(e) as RunView['errors'][number]);
    const { spec, ...rest } = run;
    const replicas = [...this.assignments.values()].filter((a) => a.runId === runId);
    return {
      ...rest,
      kind: spec.kind,
      items: {
        total: raw[SOURCE_TOTAL_FIELD] === undefined ? null : num(SOURCE_TOTAL_FIELD),
        completed: counters.sink?.completed ?? 0,
        failed,
        deadLettered: await this.store.deadLetterCount(runId),
      },
      counters,
      replicas: replicas.map(publicAssignment),
      errors,
      sinkPath: spec.kind === 'Pipeline' ? spec.sink.path : null,
      serving: spec.kind === 'ModelDeployment'
        ? { model: spec.model.name, version: spec.model.version, ready: replicas.filter((a) => a.phase === 'running').length, replicas: spec.replicas }
        : null,
    };
  }

  /** A run's dead-lettered items, sorted by source key. */
  async deadLetters(runId: string): Promise<DeadLetter[]> {
    this.requireRun(runId);
    return this.store.deadLetters(runId);
  }

  /**
   * Sends a finished run's dead-lettered items through its pipeline again, as a new run that
   * reads only their source keys and continues the original run's identity: items keep their
   * ids, and the sink (which dedupes by id across the file) writes each at most once.
   */
  async replay(runId: string): Promise<{ run: RunRecord; items: number }> {
    const run = this.requireRun(runId);
    if (run.spec.kind !== 'Pipeline') throw new GridlineError('CONFLICT', `${runId} is a model deployment: it has no dead-letter queue`);
    if (!FINAL_RUN_STATUSES.includes(run.status)) {
      throw new GridlineError('CONFLICT', `run ${runId} is still ${run.status}: replay its dead letters once it has ended (or cancel it)`);
    }
    const keys = [...new Set((await this.store.deadLetters(runId)).map((d) => d.key))].sort();
    if (keys.length === 0) throw new GridlineError('CONFLICT', `run ${runId} has no dead-lettered items to replay`);
    const { replay: _previous, ...spec } = run.spec;
    const replayed = await this.submit({ ...spec, replay: { of: run.spec.replay?.of ?? run.id, from: run.id, keys } });
    this.logger.info({ run: runId, replay: replayed.id, items: keys.length }, 'dead letters replayed as a new run');
    return { run: replayed, items: keys.length };
  }

  /** Every placed replica that serves a model online (deployments and exposed stages). */
  servingReplicas(): ServingReplica[] {
    const out: ServingReplica[] = [];
    for (const a of this.assignments.values()) {
      const serving = a.spec.serving;
      if (serving === null || serving === undefined || a.nodeId === null) continue;
      out.push({ replicaId: a.replicaId, nodeId: a.nodeId, model: serving.model.name, version: serving.model.version, running: a.phase === 'running' });
    }
    return out;
  }

  /**
   * One model name is served by one workload at a time: a node's model server holds a model by
   * name, so a second workload (another version, another uri) would be refused on any node the
   * two share. Exposed stages of one pipeline are checked by the pipeline's graph pass.
   */
  private checkServedNames(spec: WorkloadSpec): void {
    const wanted = servedNames(spec);
    for (const run of this.runs.values()) {
      if (FINAL_RUN_STATUSES.includes(run.status)) continue;
      const clash = servedNames(run.spec).find((name) => wanted.includes(name));
      if (clash !== undefined) {
        throw new GridlineError('CONFLICT', `model ${clash} is already served by ${run.id}: delete it first (gridline cancel ${run.id}) or use another model name`, {
          details: { model: clash, servedBy: run.id },
        });
      }
    }
  }

  /** Everything a node should be running (sent again when its stream reconnects). */
  resendAll(nodeId: string): void {
    for (const id of this.assignments.onNode(nodeId)) {
      const a = this.assignments.get(id);
      if (a !== undefined) this.sendStart(a);
    }
  }

  onReplicaState(nodeId: string, report: ReportedReplica): void {
    const a = this.assignments.get(report.replicaId);
    if (!a || a.nodeId !== nodeId) return;
    if (a.phase === report.phase && a.message === report.message) return;
    this.update({ ...a, phase: report.phase, message: report.message, ...(report.phase === 'running' ? { restarts: 0 } : {}) });
    // A failure needs handling now; a serving replica coming up moves its deployment to running.
    if (report.phase === 'failed' || (report.phase === 'running' && a.kind === 'model-server')) void this.reconcileNow();
  }

  /** Reconciles a node's own list of replicas with the assignment table. */
  onHeartbeat(nodeId: string, reported: readonly ReportedReplica[]): void {
    const running = new Set<string>();
    for (const r of reported) {
      running.add(r.replicaId);
      const a = this.assignments.get(r.replicaId);
      if (!a || a.nodeId !== nodeId) {
        // A replica the node should not have (its run ended, or it moved while the node was away).
        // One already draining is stopping by itself: a forced stop would drop the chunks it holds.
        // On a draining node a replica moved by the drain is stopped gently too.
        if (r.phase !== 'stopped' && r.phase !== 'draining') {
          this.channel.send(nodeId, { stop: { replicaId: r.replicaId, drain: this.registry.get(nodeId)?.state === 'draining' } });
        }
        continue;
      }
      this.onReplicaState(nodeId, r);
    }
    const grace = 3 * this.settings.heartbeatIntervalMs;
    for (const id of this.assignments.onNode(nodeId)) {
      const a = this.assignments.get(id);
      if (a !== undefined && !running.has(a.replicaId) && this.now() - (this.sentAt.get(a.replicaId) ?? 0) > grace) {
        this.sendStart(a);
      }
    }
  }

  /** Runs one reconcile pass now (coalesced with one in progress). */
  reconcileNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reconciling) return this.reconciling;
    this.reconciling = this.reconcile()
      .catch((err: unknown) => this.logger.error({ err }, 'reconcile pass failed; will retry'))
      .finally(() => {
        this.reconciling = null;
      });
    return this.reconciling;
  }

  private async reconcile(): Promise<void> {
    const active = [...this.runs.values()].filter((r) => !FINAL_RUN_STATUSES.includes(r.status));
    if (active.length === 0) return;
    await this.placeUnbound(active);
    for (const snapshot of active) {
      // Re-read: a cancel may have ended the run while this pass awaited Redis.
      const run = this.runs.get(snapshot.id);
      if (!run || FINAL_RUN_STATUSES.includes(run.status)) continue;
      try {
        await this.reconcileRun(run);
      } catch (err) {
        this.logger.error({ err, run: run.id }, 'reconciling a run failed; will retry');
      }
    }
  }

  private async placeUnbound(active: readonly RunRecord[]): Promise<void> {
    // Assignments still bound to a lost, unknown or draining node (e.g. a crash before
    // onNodeLost or drainNode saved) are unbound here, so they are placed again rather than
    // waiting forever.
    const stranded = new Map<string, 'lost' | 'draining'>();
    for (const a of this.assignments.values()) {
      if (a.nodeId === null) continue;
      const node = this.registry.get(a.nodeId);
      if (!node || node.state === 'lost') stranded.set(a.nodeId, 'lost');
      else if (node.state === 'draining') stranded.set(a.nodeId, 'draining');
    }
    for (const [nodeId, why] of stranded) this.unbindNode(nodeId, why);
    const activeIds = new Set(active.map((r) => r.id));
    const now = this.now();
    const unbound = [...this.assignments.values()].filter((a) => a.nodeId === null && activeIds.has(a.runId) && (a.notBefore ?? 0) <= now);
    if (unbound.length === 0) return;
    // A node serves a model once: a deployment's second replica on the same node would only
    // claim resources twice. Spreading ranks such nodes last, so a repeat means no other node
    // fits: such replicas stay unplaced, and placement runs again without them so the capacity
    // they took in the first pass goes to the others.
    const first = place(this.registry.views(), this.boundPlacements(), unbound.map((a) => a.request));
    const repeats = this.repeatedServing(first.placements);
    const result = repeats.size === 0
      ? first
      : place(this.registry.views(), this.boundPlacements(), unbound.filter((a) => !repeats.has(a.replicaId)).map((a) => a.request));
    const changed: Assignment[] = [];
    const unplaced = [...result.unplaced, ...[...repeats].map((replicaId) => ({
      replicaId, summary: 'every node that fits already serves a replica of this deployment (one per node)', reasons: [],
    }))];
    const placements = result.placements;
    for (const p of placements) {
      const a = this.assignments.get(p.replicaId);
      if (!a || a.nodeId !== null) continue; // its run ended while placement ran
      const bound: Assignment = {
        ...a, nodeId: p.nodeId, phase: 'starting', message: '', cpu: p.cpu, memory: p.memory,
        gpus: p.gpus, unplacedSince: null, unplacedReason: null,
      };
      this.assignments.set(a.replicaId, bound);
      changed.push(bound);
    }
    for (const u of unplaced) {
      const a = this.assignments.get(u.replicaId);
      if (!a) continue;
      if (a.unplacedReason === u.summary && a.unplacedSince !== null) continue;
      const next: Assignment = { ...a, unplacedSince: a.unplacedSince ?? this.now(), unplacedReason: u.summary };
      this.assignments.set(a.replicaId, next);
      changed.push(next);
    }
    await this.store.saveAssignments(changed);
    for (const p of placements) {
      const a = this.assignments.get(p.replicaId);
      if (!a || a.nodeId !== p.nodeId) continue;
      this.logger.info({ replica: a.replicaId, node: p.nodeId, gpus: p.gpus.map((g) => g.index) }, 'replica placed');
      this.sendStart(a);
    }
  }

  private async reconcileRun(run: RunRecord): Promise<void> {
    const mine = [...this.assignments.values()].filter((a) => a.runId === run.id);
    if (run.spec.kind === 'ModelDeployment') {
      await this.reconcileDeployment(run, mine);
      return;
    }
    const failedReplica = mine.find((a) => a.phase === 'failed');
    if (failedReplica) {
      await this.finish(run, 'failed', `replica ${failedReplica.replicaId} failed on node ${failedReplica.nodeId}: ${failedReplica.message}`);
      return;
    }
    const unplaced = mine.filter((a) => a.nodeId === null);
    // A started run goes on while every stage keeps at least one replica (a lost node's replicas
    // that do not fit elsewhere only slow it down); it waits, and times out, only when a stage
    // has none left. A run that has not started waits for all of its replicas.
    const blocking = run.status === 'pending'
      ? unplaced
      : unplaced.filter((u) => !mine.some((a) => a.stage === u.stage && a.nodeId !== null));
    if (blocking.length > 0) {
      const first = blocking[0]!;
      const reason = `stage ${first.stage} cannot be placed: ${first.unplacedReason ?? 'no nodes yet'}`;
      if (first.unplacedSince !== null && this.now() - first.unplacedSince > this.settings.unschedulableTimeoutMs) {
        await this.finish(run, 'failed', `unschedulable for ${Math.round(this.settings.unschedulableTimeoutMs / 1000)}s: ${reason}`);
        return;
      }
      if (run.reason !== reason) await this.save({ ...run, reason });
      return;
    }
    if (unplaced.length > 0) {
      const first = unplaced[0]!;
      const reason = `running short: ${unplaced.length} replica${unplaced.length === 1 ? '' : 's'} waiting for room (stage ${first.stage}: ${first.unplacedReason ?? 'no nodes yet'})`;
      if (run.reason !== reason) await this.save({ ...run, reason });
    } else if (run.status === 'running' && run.reason !== null) {
      await this.save({ ...run, reason: null });
    }
    if (run.status === 'pending') {
      await this.save({ ...run, status: 'running', reason: null, startedAt: new Date(this.now()).toISOString() });
      this.logger.info({ run: run.id }, 'run running: every replica placed');
    }
    const counters = await this.store.runCounters(run.id);
    if (counters['source:error'] !== undefined) {
      await this.finish(run, 'failed', `source failed: ${counters['source:error']}`);
      return;
    }
    if (counters[SOURCE_DONE_FIELD] === undefined) return;
    const total = Number(counters[SOURCE_TOTAL_FIELD] ?? 0);
    const sunk = Number(counters['sink:completed'] ?? 0);
    const failed = run.stages.reduce((sum, s) => sum + Number(counters[`${s.name}:failed`] ?? 0), 0);
    if (sunk + failed < total) return;
    // Every stage settled too: a chunk a dead node forwarded but never counted comes back when its
    // lock expires and is counted then; ending before would leave that stage's counters short.
    const unsettled = run.stages.some((st) => st.kind !== 'source'
      && Number(counters[`${st.name}:completed`] ?? 0) + Number(counters[`${st.name}:failed`] ?? 0) < Number(counters[`${st.name}:queued`] ?? 0));
    if (unsettled) return;
    if (failed === 0) {
      await this.finish(run, 'succeeded', null);
    } else {
      const [firstError] = await this.store.runErrors(run.id, 1);
      const detail = firstError ? (JSON.parse(firstError) as { key: string; message: string }) : null;
      await this.finish(run, 'failed', `${failed} of ${total} items failed${detail ? `; first: ${detail.key}: ${detail.message}` : ''}`);
    }
  }

  /**
   * A deployment serves until deleted. A replica that fails (a load error, its node's model
   * server refusing it) is placed again with backoff; if a deployment that never served has a
   * replica fail more than MAX_SERVING_RESTARTS times, the deployment fails with its message (a
   * wrong uri never loads anywhere).
   */
  private async reconcileDeployment(run: RunRecord, mine: readonly Assignment[]): Promise<void> {
    for (const a of mine) {
      if (a.phase !== 'failed' || a.nodeId === null) continue;
      const restarts = (a.restarts ?? 0) + 1;
      // Once the deployment has served, one replica's trouble (a bad node) never takes the others
      // down: it keeps being placed again, the backoff capped at 30 s.
      if (restarts > MAX_SERVING_RESTARTS && run.startedAt === null) {
        await this.finish(run, 'failed', `replica ${a.replicaId} failed ${restarts} times; last on node ${a.nodeId}: ${a.message}`);
        return;
      }
      this.logger.warn({ replica: a.replicaId, node: a.nodeId, restarts, reason: a.message }, 'serving replica failed: placing it again');
      this.channel.send(a.nodeId, { stop: { replicaId: a.replicaId, drain: false } });
      this.sentAt.delete(a.replicaId);
      // Backoff (0.5 s, 1 s, 2 s ...): a model that cannot load must not spin placement.
      const notBefore = this.now() + Math.min(30_000, 500 * 2 ** (restarts - 1));
      this.update({ ...a, nodeId: null, phase: 'pending', message: `failed: ${a.message}`, cpu: 0, memory: 0, gpus: [], restarts, notBefore });
    }
    const current = [...this.assignments.values()].filter((a) => a.runId === run.id);
    const unplaced = current.filter((a) => a.nodeId === null);
    const ready = current.filter((a) => a.phase === 'running').length;
    let reason: string | null = null;
    if (unplaced.length > 0) {
      const first = unplaced[0]!;
      const why = first.unplacedReason ?? (first.message || 'no nodes yet');
      reason = `${ready} of ${current.length} replicas ready; ${unplaced.length} waiting to be placed: ${why}`;
    } else if (ready < current.length) {
      reason = `${ready} of ${current.length} replicas ready`;
    }
    // A deployment is running once one replica serves; it never fails for being short of nodes.
    const status: RunStatus = ready > 0 || run.status === 'running' ? 'running' : 'pending';
    if (status !== run.status || reason !== run.reason) {
      await this.save({ ...run, status, reason, startedAt: run.startedAt ?? (status === 'running' ? new Date(this.now()).toISOString() : null) });
      if (status === 'running' && run.status === 'pending') this.logger.info({ run: run.id }, 'model deployment serving');
    }
  }

  private async finish(run: RunRecord, status: RunStatus, reason: string | null): Promise<RunRecord> {
    const current = this.runs.get(run.id) ?? run;
    if (FINAL_RUN_STATUSES.includes(current.status)) return current; // ended meanwhile (cancel vs completion)
    const done: RunRecord = { ...current, status, reason, finishedAt: new Date(this.now()).toISOString() };
    await this.save(done);
    const mine = [...this.assignments.values()].filter((a) => a.runId === run.id);
    for (const a of mine) {
      if (a.nodeId !== null) this.channel.send(a.nodeId, { stop: { replicaId: a.replicaId, drain: false } });
      this.assignments.delete(a.replicaId);
      this.sentAt.delete(a.replicaId);
    }
    await this.store.deleteAssignments(mine.map((a) => a.replicaId));
    this.logger.info({ run: run.id, status, reason }, 'run finished');
    if (run.spec.kind === 'ModelDeployment') return done;
    // Queues and blobs go once replicas had a moment to stop; counters and errors stay for the view.
    const queues = run.stages.map((s) => s.queue);
    const cleanup = (): Promise<void> =>
      this.queues.cleanup(run.id, queues).catch((err: unknown) => this.logger.warn({ err, run: run.id }, 'cleaning up a run failed'));
    const timer = setTimeout(() => {
      this.cleanups.delete(run.id);
      void cleanup();
      // Once more later: a replica on a node that was away may still have added a chunk.
      setTimeout(() => void cleanup(), LATE_CLEANUP_MS).unref();
    }, 2 * this.settings.heartbeatIntervalMs);
    timer.unref();
    this.cleanups.set(run.id, { timer, run: cleanup });
    return done;
  }

  private onNodeLost(node: NodeRecord): void {
    if (this.unbindNode(node.id, 'lost').length > 0) void this.reconcileNow();
  }

  /**
   * `gridline drain`: the node takes nothing new (the registry marks it draining), and each of
   * its replicas is told to stop gently, finishing the chunks it holds while a replacement is
   * placed on another node under the same replica id. Returns the replicas that move.
   */
  async drainNode(nodeId: string): Promise<{ node: NodeRecord; moved: string[] }> {
    const node = await this.registry.drain(nodeId);
    const moved = this.unbindNode(nodeId, 'draining');
    if (moved.length > 0) void this.reconcileNow();
    return { node, moved };
  }

  /** `gridline undrain`: the node takes replicas again; replicas that moved stay where they are. */
  async undrainNode(nodeId: string): Promise<NodeRecord> {
    const node = await this.registry.undrain(nodeId);
    void this.reconcileNow();
    return node;
  }

  /**
   * Frees a lost or draining node's assignments so reconcile places them elsewhere; returns
   * their replica ids. A draining node's replicas are told to stop with drain first (a lost
   * node cannot be told anything).
   */
  private unbindNode(nodeId: string, why: 'lost' | 'draining'): string[] {
    const moved: Assignment[] = [];
    // A copy: unbinding changes the node's index while this walks it.
    for (const id of [...this.assignments.onNode(nodeId)]) {
      const a = this.assignments.get(id);
      if (a === undefined) continue;
      if (why === 'draining') this.channel.send(nodeId, { stop: { replicaId: a.replicaId, drain: true } });
      const next: Assignment = { ...a, nodeId: null, phase: 'pending', message: `node ${nodeId} ${why}`, cpu: 0, memory: 0, gpus: [] };
      this.assignments.set(a.replicaId, next);
      this.sentAt.delete(a.replicaId);
      moved.push(next);
    }
    if (moved.length === 0) return [];
    this.logger[why === 'lost' ? 'warn' : 'info']({ node: nodeId, replicas: moved.length }, `node ${why}: its replicas will be placed elsewhere`);
    this.store.saveAssignments(moved).catch((err: unknown) => this.logger.error({ err }, 'saving re-placed assignments failed'));
    return moved.map((a) => a.replicaId);
  }

  /** Deployment replicas that `placements` would put on a node already serving their deployment. */
  private repeatedServing(placements: readonly Placement[]): Set<string> {
    const servingOn = new Set<string>();
    for (const a of this.assignments.values()) if (a.kind === 'model-server' && a.nodeId !== null) servingOn.add(`${a.request.group}\u0000${a.nodeId}`);
    const repeats = new Set<string>();
    for (const p of placements) {
      const a = this.assignments.get(p.replicaId);
      if (a?.kind !== 'model-server') continue;
      const key = `${a.request.group}\u0000${p.nodeId}`;
      if (servingOn.has(key)) repeats.add(p.replicaId);
      else servingOn.add(key);
    }
    return repeats;
  }

  private sendStart(a: Assignment): void {
    if (a.nodeId === null) return;
    const spec: ReplicaSpec = { ...a.spec, gpuIndexes: a.gpus.map((g) => g.index) };
    const sent = this.channel.send(a.nodeId, {
      start: { replicaId: a.replicaId, runId: a.runId, stage: a.stage, kind: a.kind, specJson: JSON.stringify(spec), gpuIndexes: spec.gpuIndexes as number[] },
    });
    if (sent) this.sentAt.set(a.replicaId, this.now());
  }

  private boundPlacements(): Placement[] {
    const out: Placement[] = [];
    for (const a of this.assignments.values()) {
      if (a.nodeId !== null) out.push({ replicaId: a.replicaId, nodeId: a.nodeId, cpu: a.cpu, memory: a.memory, gpus: a.gpus, group: a.request.group });
    }
    return out;
  }

  private update(a: Assignment): void {
    this.assignments.set(a.replicaId, a);
    this.store.saveAssignments([a]).catch((err: unknown) => this.logger.warn({ err }, 'saving an assignment failed'));
  }

  /** Saves a run update, unless the run already ended (only finish() writes final states). */
  private async save(run: RunRecord): Promise<void> {
    const current = this.runs.get(run.id);
    if (current && current !== run && FINAL_RUN_STATUSES.includes(current.status) && !FINAL_RUN_STATUSES.includes(run.status)) return;
    this.runs.set(run.id, run);
    await this.store.saveRun(run);
  }

  private requireRun(runId: string): RunRecord {
    const run = this.runs.get(runId);
    if (!run) throw new GridlineError('NOT_FOUND', `no run with id ${runId}`);
    return run;
  }
}

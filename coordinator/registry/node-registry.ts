import { EventEmitter } from 'node:events';
import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { NodeRecord, NodeState } from '../../common/run-types.js';
import type { CoordinatorStore } from '../store/coordinator-store.js';
import type { NodeView } from '../scheduler/types.js';

export interface LeaseSettings {
  readonly heartbeatIntervalMs: number;
  /** A node silent this long is lost. */
  readonly ttlMs: number;
  /**
   * Extra time nodes get to reconnect after a coordinator restart: their reconnect backoff may
   * be longer than one TTL, and losing every node on each restart would move every replica.
   */
  readonly restartGraceMs?: number;
}

interface Entry {
  record: NodeRecord;
  expiresAt: number;
  persistedHeartbeatAt: number;
  /** Its control stream is up (memory only): what an undrained node goes back to. */
  connected: boolean;
}

export interface NodeRegistryEvents {
  /** silentMs: time from the last heartbeat received to the loss being declared. */
  lost: [node: NodeRecord, silentMs: number];
  ready: [node: NodeRecord];
}

/** How often lastHeartbeatAt reaches Redis: heartbeats themselves stay in memory. */
const PERSIST_HEARTBEAT_EVERY_MS = 5_000;

/**
 * Registered nodes and their leases. The coordinator sets the TTL; each heartbeat renews the
 * lease in memory; a sweep marks nodes whose lease ran out as lost and says so once.
 */
export class NodeRegistry extends EventEmitter<NodeRegistryEvents> {
  private readonly entries = new Map<string, Entry>();
  /** Nodes whose heartbeat time is due to be persisted (with the next sweep). */
  private readonly unsaved = new Set<string>();
  private sweeper: NodeJS.Timeout | null = null;
  /** Bumped on every node change that routing cares about (registration, state). */
  revision = 0;

  constructor(
    private readonly store: CoordinatorStore,
    private readonly lease: LeaseSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Reloads nodes after a coordinator restart: each gets one TTL to reconnect before it is lost. */
  async load(): Promise<void> {
    const t = this.now();
    for (const record of await this.store.loadNodes()) {
      // A drain outlives a coordinator restart: only an undrain makes the node ready again.
      const state: NodeState = record.state === 'lost' || record.state === 'draining' ? record.state : 'disconnected';
      this.entries.set(record.id, { record: { ...record, state }, expiresAt: t + this.lease.ttlMs + (this.lease.restartGraceMs ?? 0), persistedHeartbeatAt: t, connected: false });
    }
  }

  start(): void {
    const every = Math.max(10, Math.floor(this.lease.heartbeatIntervalMs / 4));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  get(nodeId: string): NodeRecord | undefined {
    return this.entries.get(nodeId)?.record;
  }

  list(): NodeRecord[] {
    return [...this.entries.values()].map((e) => e.record).sort((a, b) => a.id.localeCompare(b.id));
  }

  views(): NodeView[] {
    return this.list().map((n) => ({
      id: n.id, state: n.state, cpu: n.cpu, memory: n.memory, labels: n.labels,
      gpus: n.gpus.map((g) => ({ index: g.index, model: g.model, memory: g.memory })),
    }));
  }

  /** Adds or refreshes a node at registration. */
  async register(record: Omit<NodeRecord, 'state' | 'lastHeartbeatAt' | 'registeredAt'>): Promise<NodeRecord> {
    const t = this.now();
    const previous = this.entries.get(record.id)?.record;
    const full: NodeRecord = {
      ...record,
      // A draining node registering again (a restarted worker) stays drained; a lost one starts afresh.
      state: previous?.state === 'draining' ? 'draining' : 'disconnected',
      registeredAt: previous?.registeredAt ?? new Date(t).toISOString(),
      lastHeartbeatAt: new Date(t).toISOString(),
    };
    this.entries.set(record.id, { record: full, expiresAt: t + this.lease.ttlMs, persistedHeartbeatAt: t, connected: false });
    this.revision += 1;
    await this.store.saveNode(full);
    return full;
  }

  /** The control stream is up: the node can take replicas. */
  async connected(nodeId: string): Promise<void> {
    const entry = this.entries.get(nodeId);
    if (!entry) return;
    entry.expiresAt = this.now() + this.lease.ttlMs;
    entry.connected = true;
    if (entry.record.state !== 'ready' && entry.record.state !== 'draining') {
      await this.setState(entry, 'ready');
      this.emit('ready', entry.record);
    }
  }

  /** The stream dropped: keep the lease running; the node is lost only if it stays silent. */
  async disconnected(nodeId: string): Promise<void> {
    const entry = this.entries.get(nodeId);
    if (entry) entry.connected = false;
    if (entry && entry.record.state === 'ready') await this.setState(entry, 'disconnected');
  }

  /**
   * Marks a node draining (persisted, so a coordinator restart keeps it): placement takes only
   * ready nodes, so nothing new goes there. Idempotent; a lost node cannot be drained.
   */
  async drain(nodeId: string): Promise<NodeRecord> {
    const entry = this.requireLive(nodeId, 'drain');
    if (entry.record.state !== 'draining') await this.setState(entry, 'draining');
    return entry.record;
  }

  /** Ends a drain: the node takes replicas again (ready if its stream is up). Idempotent. */
  async undrain(nodeId: string): Promise<NodeRecord> {
    const entry = this.requireLive(nodeId, 'undrain');
    if (entry.record.state === 'draining') {
      await this.setState(entry, entry.connected ? 'ready' : 'disconnected');
      if (entry.connected) this.emit('ready', entry.record);
    }
    return entry.record;
  }

  heartbeat(nodeId: string): boolean {
    const entry = this.entries.get(nodeId);
    if (!entry || entry.record.state === 'lost') return false;
    const t = this.now();
    entry.expiresAt = t + this.lease.ttlMs;
    if (t - entry.persistedHeartbeatAt >= PERSIST_HEARTBEAT_EVERY_MS) {
      entry.persistedHeartbeatAt = t;
      entry.record = { ...entry.record, lastHeartbeatAt: new Date(t).toISOString() };
      // Written with the next sweep, many nodes in one HSET: one write per heartbeat costs the
      // coordinator a Redis round trip per node every few seconds, which adds up at 1,000 nodes.
      this.unsaved.add(nodeId);
    }
    return true;
  }

  /** Marks a node lost now (an operator revoked it): its replicas are placed elsewhere at once. */
  async markLost(nodeId: string, reason: string): Promise<NodeRecord> {
    const entry = this.entries.get(nodeId);
    if (!entry) throw new GridlineError('NOT_FOUND', `no node with id ${nodeId}: see \`gridline nodes\``);
    if (entry.record.state === 'lost') return entry.record;
    this.logger.warn({ node: nodeId, reason }, 'node marked lost');
    await this.setState(entry, 'lost');
    this.emit('lost', entry.record, 0);
    return entry.record;
  }

  /** Marks expired leases lost. Public so tests and the reconcile loop can drive it. */
  sweep(): void {
    const t = this.now();
    for (const entry of this.entries.values()) {
      if (entry.record.state === 'lost' || entry.expiresAt > t) continue;
      const silentMs = t - (entry.expiresAt - this.lease.ttlMs);
      this.logger.warn({ node: entry.record.id, silentMs }, 'node missed its heartbeat TTL: marked lost');
      entry.record = { ...entry.record, state: 'lost', lastHeartbeatAt: new Date(entry.expiresAt - this.lease.ttlMs).toISOString() };
      this.revision += 1;
      this.store.saveNode(entry.record).catch((err: unknown) => this.logger.warn({ err }, 'persisting a lost node failed'));
      this.emit('lost', entry.record, silentMs);
    }
    if (this.unsaved.size > 0) {
      const records = [...this.unsaved].flatMap((id) => {
        const e = this.entries.get(id);
        return e && e.record.state !== 'lost' ? [e.record] : [];
      });
      this.unsaved.clear();
      this.store.saveNodes(records).catch((err: unknown) => this.logger.warn({ err }, 'persisting heartbeat times failed'));
    }
  }

  private requireLive(nodeId: string, action: string): Entry {
    const entry = this.entries.get(nodeId);
    if (!entry) throw new GridlineError('NOT_FOUND', `no node with id ${nodeId}: see \`gridline nodes\``);
    if (entry.record.state === 'lost') {
      throw new GridlineError('CONFLICT', `node ${nodeId} is lost: there is nothing to ${action} (its replicas already moved; it registers afresh when it comes back)`);
    }
    return entry;
  }

  private async setState(entry: Entry, state: NodeState): Promise<void> {
    entry.record = { ...entry.record, state };
    this.revision += 1;
    await this.store.saveNode(entry.record);
  }
}

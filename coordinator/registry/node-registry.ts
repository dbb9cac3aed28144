import { EventEmitter } from 'node:events';
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
      const state: NodeState = record.state === 'lost' ? 'lost' : 'disconnected';
      this.entries.set(record.id, { record: { ...record, state }, expiresAt: t + this.lease.ttlMs + (this.lease.restartGraceMs ?? 0), persistedHeartbeatAt: t });
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
      state: 'disconnected',
      registeredAt: previous?.registeredAt ?? new Date(t).toISOString(),
      lastHeartbeatAt: new Date(t).toISOString(),
    };
    this.entries.set(record.id, { record: full, expiresAt: t + this.lease.ttlMs, persistedHeartbeatAt: t });
    this.revision += 1;
    await this.store.saveNode(full);
    return full;
  }

  /** The control stream is up: the node can take replicas. */
  async connected(nodeId: string): Promise<void> {
    const entry = this.entries.get(nodeId);
    if (!entry) return;
    entry.expiresAt = this.now() + this.lease.ttlMs;
    if (entry.record.state !== 'ready' && entry.record.state !== 'draining') {
      await this.setState(entry, 'ready');
      this.emit('ready', entry.record);
    }
  }

  /** The stream dropped: keep the lease running; the node is lost only if it stays silent. */
  async disconnected(nodeId: string): Promise<void> {
    const entry = this.entries.get(nodeId);
    if (entry && entry.record.state === 'ready') await this.setState(entry, 'disconnected');
  }

  heartbeat(nodeId: string): boolean {
    const entry = this.entries.get(nodeId);
    if (!entry || entry.record.state === 'lost') return false;
    const t = this.now();
    entry.expiresAt = t + this.lease.ttlMs;
    if (t - entry.persistedHeartbeatAt >= PERSIST_HEARTBEAT_EVERY_MS) {
      entry.persistedHeartbeatAt = t;
      entry.record = { ...entry.record, lastHeartbeatAt: new Date(t).toISOString() };
      this.store.saveNode(entry.record).catch((err: unknown) => this.logger.warn({ err }, 'persisting a heartbeat failed'));
    }
    return true;
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
  }

  private async setState(entry: Entry, state: NodeState): Promise<void> {
    entry.record = { ...entry.record, state };
    this.revision += 1;
    await this.store.saveNode(entry.record);
  }
}

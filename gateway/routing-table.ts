import { GridlineError } from '../common/errors.js';

/** One replica of a model: a worker's OIP gRPC server (`host:port`) and whether it may take requests. */
export interface ReplicaRoute {
  readonly id: string;
  readonly address: string;
  readonly ready: boolean;
}

/** A model version and its replicas. */
export interface ModelRoute {
  readonly model: string;
  readonly version: string;
  readonly replicas: readonly ReplicaRoute[];
}

/**
 * What the coordinator's watch stream sends: a snapshot replaces the whole table (on connect, so a
 * gateway started late catches up at once); a delta upserts model versions (each replacing that
 * version's replica list) and removes others. `revision`, when given, orders updates: an update
 * whose revision is not above the table's is ignored (a snapshot always applies).
 */
export type RoutingUpdate =
  | { readonly kind: 'snapshot'; readonly revision?: number; readonly models: readonly ModelRoute[] }
  | {
    readonly kind: 'delta';
    readonly revision?: number;
    readonly upsert?: readonly ModelRoute[];
    readonly remove?: readonly { readonly model: string; readonly version: string }[];
  };

/** The side a watch stream feeds. */
export interface RoutingTableSink {
  apply(update: RoutingUpdate): void;
}

/** The side the gateway reads. */
export interface RoutingTableView {
  /** The route for `model` at `version`; '' picks the highest version that has a ready replica, else the highest. */
  lookup(model: string, version: string): ModelRoute | undefined;
  /** Whether any version of `model` is in the table. */
  hasModel(model: string): boolean;
  /** Every route, sorted by model then version. */
  routes(): readonly ModelRoute[];
  /** Every replica address in the table. */
  addresses(): ReadonlySet<string>;
  /** Called after each applied update; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

/** The model → replicas table; updates are validated whole before any is applied. */
export class RoutingTable implements RoutingTableSink, RoutingTableView {
  private readonly byModel = new Map<string, Map<string, ModelRoute>>();
  private readonly listeners = new Set<() => void>();
  private revision = -Infinity;

  constructor(initial: readonly ModelRoute[] = []) {
    if (initial.length > 0) this.apply({ kind: 'snapshot', models: initial });
  }

  apply(update: RoutingUpdate): void {
    if (update.kind === 'delta' && update.revision !== undefined && update.revision <= this.revision) return;
    const upserts = (update.kind === 'snapshot' ? update.models : update.upsert ?? []).map((r, i) => checkRoute(r, `${update.kind === 'snapshot' ? 'models' : 'upsert'}[${i}]`));
    if (update.kind === 'snapshot') this.byModel.clear();
    else {
      for (const { model, version } of update.remove ?? []) {
        const versions = this.byModel.get(model);
        versions?.delete(version);
        if (versions?.size === 0) this.byModel.delete(model);
      }
    }
    for (const route of upserts) {
      let versions = this.byModel.get(route.model);
      if (versions === undefined) this.byModel.set(route.model, (versions = new Map()));
      versions.set(route.version, route);
    }
    if (update.revision !== undefined) this.revision = update.revision;
    for (const listener of [...this.listeners]) listener();
  }

  lookup(model: string, version: string): ModelRoute | undefined {
    const versions = this.byModel.get(model);
    if (versions === undefined) return undefined;
    if (version !== '') return versions.get(version);
    const sorted = [...versions.values()].sort((a, b) => compareVersions(b.version, a.version));
    return sorted.find((r) => r.replicas.some((x) => x.ready)) ?? sorted[0];
  }

  hasModel(model: string): boolean {
    return this.byModel.has(model);
  }

  routes(): readonly ModelRoute[] {
    return [...this.byModel.values()].flatMap((v) => [...v.values()])
      .sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : compareVersions(a.version, b.version)));
  }

  addresses(): ReadonlySet<string> {
    const out = new Set<string>();
    for (const versions of this.byModel.values()) {
      for (const route of versions.values()) for (const r of route.replicas) out.add(r.address);
    }
    return out;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Numeric versions compare as numbers ("10" > "9"), others as strings. */
export function compareVersions(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkRoute(route: ModelRoute, field: string): ModelRoute {
  const bad = (what: string): never => {
    throw new GridlineError('INVALID_ARGUMENT', `routing update ${field}: ${what}`, { details: { field } });
  };
  if (typeof route.model !== 'string' || route.model === '') bad('model must be a non-empty string');
  if (typeof route.version !== 'string') bad('version must be a string');
  if (!Array.isArray(route.replicas)) bad('replicas must be an array');
  const ids = new Set<string>();
  const replicas = route.replicas.map((r, i) => {
    if (typeof r.id !== 'string' || r.id === '') bad(`replicas[${i}].id must be a non-empty string`);
    if (ids.has(r.id)) bad(`replicas[${i}].id ${JSON.stringify(r.id)} is listed twice`);
    ids.add(r.id);
    const m = typeof r.address === 'string' ? ADDRESS.exec(r.address) : null;
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) bad(`replicas[${i}].address must be host:port, got ${JSON.stringify(r.address)}`);
    if (typeof r.ready !== 'boolean') bad(`replicas[${i}].ready must be a boolean`);
    return Object.freeze({ id: r.id, address: r.address, ready: r.ready });
  });
  return Object.freeze({ model: route.model, version: route.version, replicas: Object.freeze(replicas) });
}

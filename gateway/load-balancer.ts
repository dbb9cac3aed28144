import { status } from '@grpc/grpc-js';
import { GridlineError } from '../common/errors.js';
import { grpcCodeOf, isMessageTooLarge, messageOf, notFound, overloaded } from './gateway-errors.js';
import type { ModelRoute, ReplicaRoute, RoutingTableView } from './routing-table.js';

export interface LoadBalancerOptions {
  /** A number in [0, 1), as Math.random (the default); tests pass a seeded one. */
  readonly random?: () => number;
  /** Milliseconds since the epoch (default Date.now). */
  readonly now?: () => number;
  /** Requests the gateway keeps in flight on one replica at most (default 128); beyond, it picks another or answers RESOURCE_EXHAUSTED. */
  readonly maxInflightPerReplica?: number;
  /** Consecutive failures that eject a replica (default 5). */
  readonly ejectAfterFailures?: number;
  /** How long a first ejection lasts (default 10 s); each further one in a row lasts that much longer, up to maxEjectionMs. */
  readonly ejectionMs?: number;
  readonly maxEjectionMs?: number;
  readonly onEject?: (route: ModelRoute, replica: ReplicaRoute, forMs: number) => void;
}

/** One try of a request on one replica. */
export interface Attempt {
  readonly route: ModelRoute;
  readonly replica: ReplicaRoute;
  /** The request's absolute deadline (ms since the epoch). */
  readonly deadline: number;
}

export interface ReplicaLoad {
  readonly model: string;
  readonly version: string;
  readonly id: string;
  readonly outstanding: number;
  readonly consecutiveFailures: number;
  readonly ejected: boolean;
}

interface ReplicaState {
  outstanding: number;
  consecutiveFailures: number;
  /** 0: not ejected. */
  ejectedUntil: number;
  /** Ejections in a row (reset by a success). */
  ejections: number;
}

/** Statuses that say the replica is at fault, and count toward ejecting it. */
const REPLICA_FAULTS: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.INTERNAL, status.UNKNOWN, status.DATA_LOSS]);

/**
 * Picks a replica for each request by power-of-two-choices on outstanding requests among the
 * ready, non-ejected replicas, runs the attempt, and handles what comes back: UNAVAILABLE is
 * retried once on another replica; RESOURCE_EXHAUSTED (a full queue) moves on to a replica not yet
 * tried, and when every one is full (or at the gateway's in-flight cap) the request fails at once
 * with RESOURCE_EXHAUSTED rather than waiting. A replica with `ejectAfterFailures` failures in a
 * row is left out for a while, then given one request again: a failure ejects it anew (for longer),
 * a success restores it. When every ready replica is ejected they are used anyway, so one bad
 * spell does not take a model down for the whole ejection.
 */
export class LoadBalancer {
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly cap: number;
  private readonly threshold: number;
  private readonly ejectionMs: number;
  private readonly maxEjectionMs: number;
  private readonly states = new Map<string, ReplicaState>();
  private readonly unsubscribe: () => void;

  constructor(private readonly table: RoutingTableView, private readonly options: LoadBalancerOptions = {}) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.cap = positive(options.maxInflightPerReplica ?? 128, 'maxInflightPerReplica');
    this.threshold = positive(options.ejectAfterFailures ?? 5, 'ejectAfterFailures');
    this.ejectionMs = positive(options.ejectionMs ?? 10_000, 'ejectionMs');
    this.maxEjectionMs = Math.max(this.ejectionMs, options.maxEjectionMs ?? 120_000);
    this.unsubscribe = table.onChange(() => this.prune());
  }

  /**
   * Runs `attempt` on a replica of `model` (version '' : the table's default), trying others as
   * described above. Throws NOT_FOUND for a model not in the table, UNAVAILABLE when it has no
   * ready replica, DEADLINE_EXCEEDED once `deadline` has passed, or the last attempt's error.
   */
  async call<T>(model: string, version: string, deadline: number, attempt: (a: Attempt) => Promise<T>): Promise<T> {
    const tried = new Set<string>();
    let retriedUnavailable = false;
    let lastError: unknown;
    for (;;) {
      if (this.now() >= deadline) {
        throw new GridlineError('DEADLINE_EXCEEDED', `model ${describe(model, version)}: the request's deadline passed`, { retryable: true });
      }
      const route = this.table.lookup(model, version);
      if (route === undefined) {
        throw notFound(this.table.hasModel(model)
          ? `model ${JSON.stringify(model)} has no version ${JSON.stringify(version)}`
          : `unknown model ${JSON.stringify(model)}`);
      }
      const replica = this.pick(route, tried, lastError);
      const key = keyOf(route, replica);
      const state = this.stateOf(key);
      tried.add(replica.id);
      state.outstanding++;
      try {
        const result = await attempt({ route, replica, deadline });
        state.consecutiveFailures = 0;
        state.ejections = 0;
        return result;
      } catch (err) {
        const code = grpcCodeOf(err);
        if (REPLICA_FAULTS.has(code)) this.failed(route, replica, state);
        if (code === status.UNAVAILABLE && !retriedUnavailable) {
          retriedUnavailable = true;
          lastError = err;
          continue;
        }
        if (code === status.RESOURCE_EXHAUSTED && !isMessageTooLarge(err)) {
          lastError = err;
          continue;
        }
        throw err;
      } finally {
        state.outstanding--;
      }
    }
  }

  /** Whether `model` (version '' : any) has a ready replica in the table. */
  isReady(model: string, version: string): boolean {
    return this.table.lookup(model, version)?.replicas.some((r) => r.ready) ?? false;
  }

  /** Per-replica load and health, for status pages and tests. */
  loads(): ReplicaLoad[] {
    const now = this.now();
    return this.table.routes().flatMap((route) => route.replicas.map((r) => {
      const s = this.states.get(keyOf(route, r));
      return {
        model: route.model, version: route.version, id: r.id,
        outstanding: s?.outstanding ?? 0,
        consecutiveFailures: s?.consecutiveFailures ?? 0,
        ejected: s !== undefined && s.ejectedUntil > now,
      };
    }));
  }

  close(): void {
    this.unsubscribe();
  }

  private pick(route: ModelRoute, tried: ReadonlySet<string>, lastError: unknown): ReplicaRoute {
    const ready = route.replicas.filter((r) => r.ready);
    if (ready.length === 0) {
      throw new GridlineError('UNAVAILABLE', `model ${describe(route.model, route.version)} has no ready replica`, { retryable: true });
    }
    const untried = ready.filter((r) => !tried.has(r.id));
    if (untried.length === 0) throw this.exhausted(route, ready.length, lastError);
    const now = this.now();
    const healthy = untried.filter((r) => !this.isEjected(keyOf(route, r), now));
    const pool = (healthy.length > 0 ? healthy : untried).filter((r) => (this.states.get(keyOf(route, r))?.outstanding ?? 0) < this.cap);
    if (pool.length === 0) {
      if (lastError !== undefined && grpcCodeOf(lastError) !== status.RESOURCE_EXHAUSTED) throw lastError;
      throw overloaded(`model ${describe(route.model, route.version)}: every replica is full (the gateway's limit is ${this.cap} requests in flight per replica)`);
    }
    if (pool.length === 1) return pool[0] as ReplicaRoute;
    const i = Math.min(pool.length - 1, Math.floor(this.random() * pool.length));
    let j = Math.min(pool.length - 2, Math.floor(this.random() * (pool.length - 1)));
    if (j >= i) j++;
    const a = pool[i] as ReplicaRoute;
    const b = pool[j] as ReplicaRoute;
    const la = this.states.get(keyOf(route, a))?.outstanding ?? 0;
    const lb = this.states.get(keyOf(route, b))?.outstanding ?? 0;
    return lb < la ? b : a;
  }

  /** Every ready replica was tried: the last error, or RESOURCE_EXHAUSTED when they all were full. */
  private exhausted(route: ModelRoute, count: number, lastError: unknown): unknown {
    if (lastError !== undefined && grpcCodeOf(lastError) === status.RESOURCE_EXHAUSTED) {
      return overloaded(`model ${describe(route.model, route.version)}: all ${count} replicas are full (${messageOf(lastError)})`);
    }
    return lastError ?? new GridlineError('UNAVAILABLE', `model ${describe(route.model, route.version)} has no replica left to try`, { retryable: true });
  }

  private isEjected(key: string, now: number): boolean {
    const s = this.states.get(key);
    if (s === undefined || s.ejectedUntil === 0) return false;
    if (now < s.ejectedUntil) return true;
    // The ejection is over: one more failure ejects again, a success restores the replica.
    s.ejectedUntil = 0;
    s.consecutiveFailures = this.threshold - 1;
    return false;
  }

  private failed(route: ModelRoute, replica: ReplicaRoute, state: ReplicaState): void {
    state.consecutiveFailures++;
    if (state.consecutiveFailures >= this.threshold && state.ejectedUntil === 0) {
      state.ejections++;
      const forMs = Math.min(this.maxEjectionMs, this.ejectionMs * state.ejections);
      state.ejectedUntil = this.now() + forMs;
      this.options.onEject?.(route, replica, forMs);
    }
  }

  private stateOf(key: string): ReplicaState {
    let s = this.states.get(key);
    if (s === undefined) this.states.set(key, (s = { outstanding: 0, consecutiveFailures: 0, ejectedUntil: 0, ejections: 0 }));
    return s;
  }

  private prune(): void {
    const live = new Set(this.table.routes().flatMap((route) => route.replicas.map((r) => keyOf(route, r))));
    for (const key of this.states.keys()) if (!live.has(key)) this.states.delete(key);
  }
}

function keyOf(route: ModelRoute, replica: ReplicaRoute): string {
  return `${route.model}\u0000${route.version}\u0000${replica.id}`;
}

function describe(model: string, version: string): string {
  return version === '' ? JSON.stringify(model) : `${JSON.stringify(model)} version ${JSON.stringify(version)}`;
}

function positive(n: number, name: string): number {
  if (!(Number.isFinite(n) && n > 0)) throw new GridlineError('INVALID_ARGUMENT', `${name} must be a positive number, got ${String(n)}`);
  return n;
}

import type { ModelRouteView, RoutesSnapshot } from '../../common/model-routes.js';

export interface RoutePublisherOptions {
  /** How often the table is recomputed and compared (default 100 ms). */
  readonly intervalMs?: number;
}

/**
 * Turns the routing table, computed on demand from the registry and the run manager, into a
 * stream of snapshots for watchers (gateways): it recomputes every `intervalMs`, and when the
 * table differs from the last one, bumps the revision and tells every subscriber. Comparing whole
 * tables keeps this independent of which of many events (heartbeat, replica phase, node lost)
 * changed a route; the table is small (models × nodes serving them).
 */
export class RoutePublisher {
  private snapshot: RoutesSnapshot;
  private lastJson: string;
  private readonly listeners = new Set<(snapshot: RoutesSnapshot) => void>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly compute: () => ModelRouteView[], private readonly options: RoutePublisherOptions = {}) {
    const models = compute();
    this.snapshot = { revision: 1, models };
    this.lastJson = JSON.stringify(models);
  }

  start(): void {
    this.timer ??= setInterval(() => this.refresh(), this.options.intervalMs ?? 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  /** The table now (recomputed, so a one-shot read never lags the stream). */
  current(): RoutesSnapshot {
    this.refresh();
    return this.snapshot;
  }

  /** Calls `listener` with every new snapshot; returns the unsubscribe function. */
  subscribe(listener: (snapshot: RoutesSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  refresh(): void {
    const models = this.compute();
    const json = JSON.stringify(models);
    if (json === this.lastJson) return;
    this.lastJson = json;
    this.snapshot = { revision: this.snapshot.revision + 1, models };
    for (const listener of [...this.listeners]) listener(this.snapshot);
  }
}

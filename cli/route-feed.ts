import type { Logger } from '../common/logger.js';
import type { RoutesSnapshot } from '../common/model-routes.js';
import type { RoutingTableSink } from '../gateway/index.js';

/**
 * Keeps a gateway's routing table in step with the coordinator by polling its routes every
 * `intervalMs` (a watch stream is the planned replacement). A failed poll keeps the last table:
 * a coordinator restart must not take inference down.
 */
export function followRoutes(fetchRoutes: () => Promise<RoutesSnapshot>, table: RoutingTableSink, options: { intervalMs: number; logger: Logger }): { ready: Promise<void>; stop(): void } {
  let stopped = false;
  let lastRevision = -1;
  let failing = false;
  let timer: NodeJS.Timeout | null = null;
  let first: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    first = resolve;
  });
  const poll = async (): Promise<void> => {
    try {
      const snapshot = await fetchRoutes();
      if (snapshot.revision !== lastRevision) {
        table.apply({ kind: 'snapshot', models: snapshot.models });
        lastRevision = snapshot.revision;
        options.logger.debug({ revision: snapshot.revision, models: snapshot.models.length }, 'routing table updated');
      }
      if (failing) options.logger.info('coordinator reachable again: routes follow it');
      failing = false;
      first();
    } catch (err) {
      if (!failing) options.logger.warn({ err: (err as Error).message }, 'cannot read routes from the coordinator: keeping the last table');
      failing = true;
    }
    if (!stopped) {
      timer = setTimeout(() => void poll(), options.intervalMs);
      timer.unref();
    }
  };
  void poll();
  return {
    ready,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

import type { KeyEntry } from '../common/auth/key-table.js';
import type { Logger } from '../common/logger.js';
import type { RoutesSnapshot } from '../common/model-routes.js';
import { tlsFetch } from '../common/tls/tls-fetch.js';
import type { TlsClientMaterial } from '../common/tls/tls-material.js';
import type { RoutingTableSink } from './routing-table.js';

export interface RouteWatchOptions {
  readonly logger: Logger;
  /** `Authorization` for the watch: an API key with the gateway scope. */
  readonly authorization: string | null;
  /** Gets the key table and service token the coordinator sends gateways. */
  readonly access: { apply(keys: readonly KeyEntry[], serviceToken: string): void };
  /** First reconnect delay; doubles up to maxBackoffMs (defaults 250 ms and 5 s). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * A stream silent this long is taken for dead and reopened (default 15 s: the coordinator sends
   * a keep-alive every 5 s), so a coordinator that vanished without closing is noticed.
   */
  readonly idleTimeoutMs?: number;
  /** For an https:// coordinator: the CA to trust and the gateway's client certificate. */
  readonly tls?: TlsClientMaterial | null;
}

export interface RouteWatch {
  /** Settles once the first table has been applied. */
  readonly ready: Promise<void>;
  stop(): void;
}

type WatchLine =
  | ({ type: 'snapshot' } & RoutesSnapshot)
  | { type: 'keys'; keys: KeyEntry[]; serviceToken: string }
  | { type: 'error'; error: { code: string; message: string } }
  | { type: 'keepalive' };

/**
 * Follows the coordinator's routing table over its watch stream (`GET /v1/routes/watch`, one JSON
 * line per table). The first line is the whole table, so a gateway started or restarted later
 * routes at once; each change follows as it happens. When the stream breaks, the last table stays
 * in force (a coordinator restart must not take inference down) and the watch reopens with
 * capped exponential backoff.
 */
export function watchRoutes(coordinatorUrl: string, table: RoutingTableSink, options: RouteWatchOptions): RouteWatch {
  const { logger } = options;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 15_000;
  const url = new URL('/v1/routes/watch', coordinatorUrl).toString();
  const fetch = tlsFetch(options.tls ?? null);
  let stopped = false;
  let failing = false;
  let controller: AbortController | null = null;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const follow = async (): Promise<void> => {
    controller = new AbortController();
    const { signal } = controller;
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => controller?.abort(new Error(`no word from the coordinator for ${idleTimeoutMs} ms`)), idleTimeoutMs);
      idle.unref();
    };
    touch();
    try {
      const headers: Record<string, string> = { accept: 'application/x-ndjson' };
      if (options.authorization !== null) headers.authorization = options.authorization;
      const res = await fetch(url, { signal, headers });
      if (!res.ok || res.body === null) {
        const reason = await res.text().catch(() => '');
        // Our own key was refused (revoked, expired): stop serving on the last table; fail closed.
        if (res.status === 401 || res.status === 403) failClosed();
        throw new Error(`GET ${url} answered ${res.status}${reason === '' ? '' : `: ${reason.slice(0, 300)}`}`);
      }
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of res.body) {
        touch();
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') apply(JSON.parse(line) as WatchLine);
        }
      }
      throw new Error('the coordinator closed the routes watch');
    } finally {
      clearTimeout(idle);
    }
  };

  let keysSeen = false;
  const failClosed = (): void => {
    options.access.apply([], '');
    keysSeen = false;
  };
  const apply = (line: WatchLine): void => {
    if (line.type === 'error') {
      failClosed();
      logger.error({ coordinator: coordinatorUrl, code: line.error.code }, `the coordinator ended the routes watch: ${line.error.message}; refusing every request until a valid key is back`);
      return;
    }
    if (line.type === 'keys') {
      options.access.apply(line.keys, line.serviceToken);
      keysSeen = true;
      return;
    }
    if (line.type !== 'snapshot') return;
    if (!keysSeen) {
      logger.error({ coordinator: coordinatorUrl }, 'the coordinator sends no API keys to this gateway: its key lacks the "gateway" scope (create one with `gridline key create --scope gateway`); every request will be refused');
      keysSeen = true;
    }
    table.apply({ kind: 'snapshot', models: line.models });
    if (failing) logger.info({ coordinator: coordinatorUrl }, 'routes watch restored');
    failing = false;
    logger.debug({ revision: line.revision, models: line.models.length }, 'routing table updated');
    markReady();
  };

  void (async () => {
    let backoff = minBackoff;
    while (!stopped) {
      const started = Date.now();
      try {
        await follow();
      } catch (err) {
        if (stopped) return;
        if (!failing) logger.warn({ err: (err as Error).message, coordinator: coordinatorUrl }, 'routes watch broken: keeping the last table and reconnecting');
        failing = true;
      }
      // A stream that lived a while was healthy: start the backoff over.
      if (Date.now() - started > maxBackoff) backoff = minBackoff;
      await new Promise((r) => setTimeout(r, backoff * (0.8 + 0.4 * Math.random())).unref());
      backoff = Math.min(maxBackoff, backoff * 2);
    }
  })();

  return {
    ready,
    stop() {
      stopped = true;
      controller?.abort(new Error('stopped'));
    },
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { GridlineError } from '../../common/errors.js';
import { applyHttpServerLimits } from '../../common/http-server-limits.js';
import type { Logger } from '../../common/logger.js';
import type { TlsMaterial } from '../../common/tls/tls-material.js';
import { createWebServer } from '../../common/tls/web-server.js';

export interface MetricsServerOptions {
  /** Interface to listen on (e.g. '127.0.0.1', '0.0.0.0'). */
  readonly host: string;
  /** 0: a free port, reported by the handle. */
  readonly port: number;
  /** HTTPS with this certificate (no client certificate asked for); null or absent: plain HTTP. */
  readonly tls?: TlsMaterial | null;
  /**
   * Served together, as one exposition. Merged at each scrape, so a metric registered later still
   * shows; a registry's default labels are not applied (prom-client's Registry.merge drops them).
   */
  readonly registries: readonly Registry[];
  readonly logger: Logger;
}

export interface MetricsServer {
  readonly port: number;
  /** host:port. */
  readonly address: string;
  /** Stops listening and drops open connections; resolves once closed. Safe to call twice. */
  stop(): Promise<void>;
}

const ALLOWED_METHODS = 'GET, HEAD';
const PATHS = new Set(['/metrics', '/healthz']);

/**
 * A node:http (or, with TLS, node:https) server for Prometheus: `GET /metrics` (text exposition of every registry),
 * `GET /healthz` ({"status":"ok"}), 404 for any other path, 405 for any other method.
 * Throws GridlineError INVALID_ARGUMENT (bad port, registries that cannot be served together) or
 * UNAVAILABLE (cannot listen).
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { logger } = options;
  const registries = [...options.registries];
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new GridlineError('INVALID_ARGUMENT', `metrics port must be a whole number from 0 to 65535, got ${options.port}`);
  }
  // Two registries holding the same metric name, or of different formats, would make a scrape
  // fail every time: refuse at startup instead.
  const contentType = merge(registries).contentType;

  const server = applyHttpServerLimits(createWebServer(options.tls ?? null, (req, res) => {
    answer(req, res, registries, contentType).catch((err: unknown) => {
      logger.warn({ err, path: req.url }, 'metrics request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'could not collect metrics\n');
      else res.destroy();
    });
  }));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port }, () => {
        server.off('error', reject);
        const bound = server.address();
        resolve(bound !== null && typeof bound === 'object' ? bound.port : options.port);
      });
    });
  } catch (err) {
    throw new GridlineError('UNAVAILABLE', `metrics server cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`, { cause: err });
  }
  server.on('error', (err) => logger.warn({ err }, 'metrics server error'));
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const address = `${host}:${port}`;
  logger.info({ address }, `serving Prometheus metrics on ${options.tls ? 'https' : 'http'}://${address}/metrics`);

  let stopping: Promise<void> | undefined;
  return {
    port,
    address,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => {
          logger.info({ address }, 'metrics server stopped');
          resolve();
        });
        // Keep-alive connections of a scraper would hold close() open; losing one scrape at
        // shutdown costs nothing.
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, registries: readonly Registry[], contentType: string): Promise<void> {
  // A body is never expected; drain it so the connection can be reused.
  req.resume();
  const path = pathOf(req.url);
  if (!PATHS.has(path)) {
    send(res, 404, 'text/plain; charset=utf-8', `no such endpoint: ${path} (try /metrics or /healthz)\n`);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', ALLOWED_METHODS);
    send(res, 405, 'text/plain; charset=utf-8', `${req.method ?? ''} is not allowed on ${path}: use ${ALLOWED_METHODS}\n`);
    return;
  }
  if (path === '/healthz') {
    send(res, 200, 'application/json', '{"status":"ok"}');
    return;
  }
  send(res, 200, contentType, await merge(registries).metrics());
}

/** The registries as one; an empty list serves an empty exposition. */
function merge(registries: readonly Registry[]): Registry {
  if (registries.length === 0) return new Registry();
  try {
    return Registry.merge([...registries]);
  } catch (err) {
    throw new GridlineError('INVALID_ARGUMENT', `metrics registries cannot be served together: ${(err as Error).message}`, { cause: err });
  }
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return url ?? '/';
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

import type { Server } from 'node:http';

/** How long clients may take, for every HTTP server gridline runs (coordinator API, gateway REST, worker metrics). */
export interface HttpServerLimits {
  /** To send the request line and headers (node's default: 60 s). */
  readonly headersTimeoutMs: number;
  /** To send the whole request, body included (node's default: 300 s). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** How often the two timeouts above are enforced (node's default: 30 s, which lets a slow client hold a socket that long past them). */
  readonly checkIntervalMs: number;
  /** Headers beyond this count are dropped (node's default: 2000). */
  readonly maxHeadersCount: number;
}

export const HTTP_SERVER_LIMITS: HttpServerLimits = {
  headersTimeoutMs: 10_000,
  // A 64 MiB inference body at 10 Mbit/s takes about 55 s.
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxHeadersCount: 100,
};

/**
 * Applies the limits against slow clients (slowloris: headers or a body sent a byte at a time, or
 * nothing at all after connecting), so they cannot hold sockets open indefinitely. Call before the
 * server's 'listening' event (right after listen() returns is fine): the check interval is read then.
 * Long responses (the routes watch stream) are not affected: the timeouts cover receiving the request.
 */
export function applyHttpServerLimits<S extends Server>(server: S, overrides: Partial<HttpServerLimits> = {}): S {
  const limits = { ...HTTP_SERVER_LIMITS, ...overrides };
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxHeadersCount = limits.maxHeadersCount;
  (server as S & { connectionsCheckingInterval: number }).connectionsCheckingInterval = limits.checkIntervalMs;
  return server;
}

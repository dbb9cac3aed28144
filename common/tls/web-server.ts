import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TlsMaterial } from './tls-material.js';

export type WebServer = HttpServer | HttpsServer;

/**
 * An HTTP server (not listening) for `handler`: HTTPS with this process's certificate when TLS
 * material is given, plaintext otherwise. No client certificate is asked for: REST callers (the
 * CLI, curl, OIP clients) authenticate with bearer keys.
 */
export function createWebServer(tls: TlsMaterial | null, handler: RequestListener): WebServer {
  if (tls === null) return createHttpServer(handler);
  return createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: 'TLSv1.2' }, handler);
}

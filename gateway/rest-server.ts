import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Scope } from '../common/auth/scopes.js';
import { GridlineError } from '../common/errors.js';
import {
  decodeRestRequest, encodeRestResponse, INFERENCE_HEADER_CONTENT_LENGTH, restBinaryOutputs,
} from '../common/oip/rest-codec.js';
import { invalidField } from '../common/oip/oip-errors.js';
import { httpStatusFor, messageOf } from './gateway-errors.js';
import type { GatewayService } from './gateway-service.js';
import { deserializeInferResponse, fromModelInferResponse, serializeInferRequest, toModelInferRequest } from './infer-wire.js';

export interface RestAppOptions {
  /** Largest request body (default 64 MiB); beyond: 413. */
  readonly bodyLimitBytes?: number;
  /** Serve /metrics (default true). */
  readonly metrics?: boolean;
  /** Checks API keys: `infer` for models, `read` for /metrics; health and server metadata are open. */
  readonly access: BearerCheck;
}

/** Anything that checks an `Authorization` header for a scope (GatewayAccess). */
export interface BearerCheck {
  verify(authorization: string | undefined, scope: Scope): unknown;
}

export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const MODEL = '/v2/models/:model{/versions/:version}';

/**
 * The Open Inference Protocol over REST, as an express app (not listening): health, server and
 * model metadata, model ready and infer (JSON, or Triton's binary tensor extension), plus
 * /metrics. Errors are `{"error": "message"}` with a 4xx or 5xx status (401 without a valid API
 * key, 403 without the scope).
 */
export function createRestApp(service: GatewayService, options: RestAppOptions): express.Express {
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Before any body is read: a caller without a key costs no parsing.
  const scope = (needed: Scope) => (req: Request, _res: Response, next: NextFunction): void => {
    options.access.verify(req.headers.authorization, needed);
    next();
  };
  const infer = scope('infer');

  app.get('/v2/health/live', (_req, res) => {
    res.json({ live: service.isLive() });
  });
  app.get('/v2/health/ready', (_req, res) => {
    const ready = service.isReady();
    res.status(ready ? 200 : 503).json({ ready });
  });
  app.get('/v2', (_req, res) => {
    res.json(service.serverMetadata);
  });
  app.get(MODEL, infer, async (req, res) => {
    const { model, version } = modelOf(req);
    const deadline = service.deadlineFor(readTimeout(req));
    res.json(await service.modelMetadata(model, version, deadline, abortOnClose(res)));
  });
  app.get(`${MODEL}/ready`, infer, async (req, res) => {
    const { model, version } = modelOf(req);
    const deadline = service.deadlineFor(readTimeout(req));
    const ready = await service.modelReady(model, version, deadline, abortOnClose(res));
    res.status(ready ? 200 : 503).json({ name: model, ready });
  });
  app.post(`${MODEL}/infer`, infer, refuseDeclaredOversize(limit), express.raw({ type: () => true, limit }), async (req, res) => {
    const { model, version } = modelOf(req);
    await service.observe('rest', model, async () => {
      const deadline = service.deadlineFor(readTimeout(req));
      if (service.table.lookup(model, version) === undefined) {
        throw new GridlineError('NOT_FOUND', service.table.hasModel(model)
          ? `model ${JSON.stringify(model)} has no version ${JSON.stringify(version)}`
          : `unknown model ${JSON.stringify(model)}`);
      }
      const body: unknown = req.body;
      const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      const request = decodeRestRequest(bytes, readHeaderLength(req));
      const message = serializeInferRequest(toModelInferRequest(model, version, request));
      const answer = await service.infer(model, version, message, deadline, abortOnClose(res));
      const encoded = encodeRestResponse(fromModelInferResponse(deserializeInferResponse(answer)), {
        binaryOutputs: restBinaryOutputs(request),
      });
      res.status(200).set('Content-Type', encoded.contentType);
      if (encoded.headerLength !== null) res.set(INFERENCE_HEADER_CONTENT_LENGTH, String(encoded.headerLength));
      res.end(encoded.body);
    });
  });
  if (options.metrics ?? true) {
    app.get('/metrics', scope('read'), async (_req, res) => {
      const text = await service.metrics.text();
      res.set('Content-Type', service.metrics.contentType).end(text);
    });
  }

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path}` });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, message } = describeError(err, limit);
    if (status >= 500) service.logger.warn({ err: message, path: req.path, status }, 'inference request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ error: message });
  });
  return app;
}

/** How long an oversized body is read and dropped before the 413 goes out regardless. */
const DRAIN_OVERSIZE_MS = 1_000;

/**
 * 413 for a Content-Length over the limit without buffering anything: express's body parser
 * would read the whole declared body first (or, from a client that never sends it, wait a minute).
 * The body is read and dropped for a moment, so a client still uploading reads the 413 rather
 * than a broken pipe; one that has sent all it will (fewer bytes than declared) or trickles gets
 * the 413 after DRAIN_OVERSIZE_MS with `Connection: close`, as its connection can carry nothing
 * more.
 */
function refuseDeclaredOversize(limit: number): express.RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.get('content-length'));
    if (!(declared > limit)) {
      next();
      return;
    }
    let dropped = 0;
    let answered = false;
    const answer = (close: boolean): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (close) res.set('Connection', 'close');
      res.status(413).json({ error: `body: ${declared} bytes, above the limit of ${limit} bytes` });
    };
    const timer = setTimeout(() => answer(true), DRAIN_OVERSIZE_MS);
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > 2 * limit) answer(true);
    });
    req.once('end', () => answer(false));
    req.once('close', () => clearTimeout(timer));
  };
}

function describeError(err: unknown, limit: number): { status: number; message: string } {
  const bodyError = err as { type?: unknown; status?: unknown; expose?: unknown; length?: unknown };
  if (bodyError !== null && typeof bodyError === 'object' && typeof bodyError.type === 'string' && typeof bodyError.status === 'number') {
    if (bodyError.type === 'entity.too.large') {
      const size = typeof bodyError.length === 'number' ? `${bodyError.length} bytes, ` : '';
      return { status: 413, message: `body: ${size}above the limit of ${limit} bytes` };
    }
    if (bodyError.expose === true) return { status: bodyError.status, message: `body: ${messageOf(err)}` };
  }
  return { status: httpStatusFor(err), message: messageOf(err) };
}

function modelOf(req: Request): { model: string; version: string } {
  const params = req.params as Record<string, string | undefined>;
  return { model: params['model'] ?? '', version: params['version'] ?? '' };
}

/** An AbortSignal that fires when the client goes away before the response is sent. */
function abortOnClose(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

function readHeaderLength(req: Request): number | null {
  const value = req.get(INFERENCE_HEADER_CONTENT_LENGTH);
  if (value === undefined) return null;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw invalidField(INFERENCE_HEADER_CONTENT_LENGTH, `must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return Number(value.trim());
}

const TIMEOUT = /^(\d+(?:\.\d+)?)(us|ms|s|m)?$/;
const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000 } as const;

/**
 * The `timeout` header: a duration such as `250ms`, `2s`, `1m` or `500us`; a bare number is in
 * seconds. Absent: undefined (the gateway's default deadline).
 */
export function readTimeout(req: Request): number | undefined {
  const value = req.get('timeout');
  if (value === undefined) return undefined;
  const m = TIMEOUT.exec(value.trim());
  if (m === null) throw invalidField('timeout', `must be a duration such as 250ms, 2s or 1m, got ${JSON.stringify(value)}`);
  return Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS];
}

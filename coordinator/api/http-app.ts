import express, { type NextFunction, type Request, type Response } from 'express';
import { GridlineError, toGridlineError } from '../../common/errors.js';
import { httpStatusOf } from '../../common/error-codes.js';
import type { Logger } from '../../common/logger.js';
import { parseWorkload } from '../../common/pipeline/parse-pipeline.js';
import type { RoutesSnapshot } from '../../common/model-routes.js';
import type { NodeRegistry } from '../registry/node-registry.js';
import type { RoutePublisher } from '../routes/route-publisher.js';
import type { RunManager } from '../runs/run-manager.js';

export interface HttpAppDeps {
  readonly runs: RunManager;
  readonly registry: NodeRegistry;
  readonly logger: Logger;
  /** Largest pipeline document accepted, in bytes. */
  readonly bodyLimit: number;
  readonly health: () => Promise<Record<string, string>>;
  readonly routes: RoutePublisher;
  /** How often a quiet routes watch sends a keep-alive line (default 5 s). */
  readonly watchKeepAliveMs?: number;
}

/**
 * The coordinator's REST API (/v1). Built without listen() so tests can mount it; errors become
 * HTTP statuses only in the error handler at the bottom.
 */
export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const text = express.text({ type: () => true, limit: deps.bodyLimit });

  app.get('/healthz', async (_req, res) => {
    const checks = await deps.health();
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks });
  });

  app.post('/v1/pipelines', text, async (req: Request, res: Response) => {
    const body = typeof req.body === 'string' ? req.body : '';
    if (body.trim() === '') throw new GridlineError('INVALID_PIPELINE', 'the request body is empty: send the pipeline or model deployment YAML or JSON');
    const contentType = req.headers['content-type'] ?? '';
    const format = contentType.includes('json') ? 'json' : contentType.includes('yaml') ? 'yaml' : 'auto';
    const spec = parseWorkload(body, { format, sourceName: String(req.query.source ?? 'request body') });
    if (req.query.dryRun === 'true' || req.query.dryRun === '1') {
      const preview = deps.runs.preview(spec);
      res.status(200).json({ dryRun: true, kind: spec.kind, pipeline: spec.metadata.name, ...preview });
      return;
    }
    const run = await deps.runs.submit(spec);
    res.status(201).location(`/v1/runs/${run.id}`).json({ runId: run.id, kind: spec.kind, status: run.status });
  });

  app.get('/v1/runs', (_req, res) => {
    res.json({ runs: deps.runs.listRuns().map(({ spec, ...r }) => ({ ...r, kind: spec.kind })) });
  });

  app.get('/v1/runs/:id', async (req, res) => {
    res.json(await deps.runs.view(req.params.id));
  });

  // The dead-letter queue: items that failed for good, with the error and their source key.
  app.get('/v1/runs/:id/dlq', async (req, res) => {
    const letters = await deps.runs.deadLetters(req.params.id);
    res.json({ runId: req.params.id, total: letters.length, items: letters });
  });

  app.post('/v1/runs/:id/dlq/replay', async (req, res) => {
    const { run, items } = await deps.runs.replay(req.params.id);
    res.status(201).location(`/v1/runs/${run.id}`).json({ runId: run.id, replayOf: req.params.id, items, status: run.status });
  });

  app.delete('/v1/runs/:id', async (req, res) => {
    const run = await deps.runs.cancel(req.params.id);
    res.json({ runId: run.id, kind: run.spec.kind, status: run.status });
  });

  app.get('/v1/nodes', (_req, res) => {
    res.json({ nodes: deps.registry.list() });
  });

  // Drain: the node takes nothing new and its replicas move, each finishing the chunks it holds.
  app.post('/v1/nodes/:id/drain', async (req, res) => {
    const { node, moved } = await deps.runs.drainNode(req.params.id);
    res.json({ node, moved });
  });

  app.post('/v1/nodes/:id/undrain', async (req, res) => {
    res.json({ node: await deps.runs.undrainNode(req.params.id) });
  });

  // Service discovery for gateways: model version -> replicas (node inference addresses).
  app.get('/v1/routes', (_req, res) => {
    const snapshot: RoutesSnapshot = deps.routes.current();
    res.json(snapshot);
  });

  // The same as a watch: one JSON line per table (the current one at once, then each change),
  // and a keep-alive line when quiet, so a gateway started or restarted later catches up at once
  // and notices a dead coordinator within a few keep-alives.
  app.get('/v1/routes/watch', (req, res) => {
    res.status(200).set({ 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const send = (snapshot: RoutesSnapshot): void => {
      res.write(`${JSON.stringify({ type: 'snapshot', ...snapshot })}\n`);
    };
    send(deps.routes.current());
    const unsubscribe = deps.routes.subscribe(send);
    const keepAlive = setInterval(() => res.write('{"type":"keepalive"}\n'), deps.watchKeepAliveMs ?? 5_000);
    keepAlive.unref();
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });

  app.use((req, _res, next) => next(new GridlineError('NOT_FOUND', `no route ${req.method} ${req.path}`)));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const error = bodyParserError(err) ?? toGridlineError(err);
    if (error.code === 'INTERNAL') deps.logger.error({ err }, 'request failed');
    res.status(httpStatusOf(error.code)).json({ error: error.toJSON() });
  });
  return app;
}

/** express's body parser throws its own errors (size, encoding): give them our codes. */
function bodyParserError(err: unknown): GridlineError | null {
  if (typeof err !== 'object' || err === null || !('type' in err)) return null;
  const e = err as { type: string; limit?: number; message: string };
  if (e.type === 'entity.too.large') {
    return new GridlineError('PAYLOAD_TOO_LARGE', `the request body is larger than the ${e.limit ?? ''} byte limit`);
  }
  return new GridlineError('INVALID_ARGUMENT', `the request body could not be read: ${e.message}`);
}

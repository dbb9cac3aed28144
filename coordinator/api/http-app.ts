import express, { type NextFunction, type Request, type Response } from 'express';
import { GridlineError, toGridlineError } from '../../common/errors.js';
import { httpStatusOf } from '../../common/error-codes.js';
import type { Logger } from '../../common/logger.js';
import { parsePipeline } from '../../common/pipeline/parse-pipeline.js';
import type { RoutesSnapshot } from '../../common/model-routes.js';
import type { NodeRegistry } from '../registry/node-registry.js';
import { modelRoutes } from '../routes/model-routes.js';
import type { RunManager } from '../runs/run-manager.js';

export interface HttpAppDeps {
  readonly runs: RunManager;
  readonly registry: NodeRegistry;
  readonly logger: Logger;
  /** Largest pipeline document accepted, in bytes. */
  readonly bodyLimit: number;
  readonly health: () => Promise<Record<string, string>>;
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
    if (body.trim() === '') throw new GridlineError('INVALID_PIPELINE', 'the request body is empty: send the pipeline YAML or JSON');
    const contentType = req.headers['content-type'] ?? '';
    const format = contentType.includes('json') ? 'json' : contentType.includes('yaml') ? 'yaml' : 'auto';
    const spec = parsePipeline(body, { format, sourceName: String(req.query.source ?? 'request body') });
    if (req.query.dryRun === 'true' || req.query.dryRun === '1') {
      const preview = deps.runs.preview(spec);
      res.status(200).json({ dryRun: true, pipeline: spec.metadata.name, ...preview });
      return;
    }
    const run = await deps.runs.submit(spec);
    res.status(201).location(`/v1/runs/${run.id}`).json({ runId: run.id, status: run.status });
  });

  app.get('/v1/runs', (_req, res) => {
    res.json({ runs: deps.runs.listRuns().map(({ spec: _spec, ...r }) => r) });
  });

  app.get('/v1/runs/:id', async (req, res) => {
    res.json(await deps.runs.view(req.params.id));
  });

  app.delete('/v1/runs/:id', async (req, res) => {
    const run = await deps.runs.cancel(req.params.id);
    res.json({ runId: run.id, status: run.status });
  });

  app.get('/v1/nodes', (_req, res) => {
    res.json({ nodes: deps.registry.list() });
  });

  // Service discovery for gateways: model version -> replicas (node inference addresses).
  app.get('/v1/routes', (_req, res) => {
    const snapshot: RoutesSnapshot = { revision: deps.registry.revision, models: modelRoutes(deps.registry.list()) };
    res.json(snapshot);
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

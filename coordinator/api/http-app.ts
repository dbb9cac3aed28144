import express, { type NextFunction, type Request, type Response } from 'express';
import { GridlineError, toGridlineError } from '../../common/errors.js';
import { httpStatusOf } from '../../common/error-codes.js';
import type { Logger } from '../../common/logger.js';
import { parseWorkload } from '../../common/pipeline/parse-pipeline.js';
import { checkWorkloadPaths } from './check-workload-paths.js';
import type { RoutesSnapshot } from '../../common/model-routes.js';
import { hasScope } from '../../common/auth/scopes.js';
import type { Caller } from '../../common/auth/key-table.js';
import type { AccessControl } from '../auth/access-control.js';
import { accessRoutes } from './access-routes.js';
import { requireAnyScope, requireScope } from './require-scope.js';
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
  /** Real paths of the directories workloads may use (see check-workload-paths.ts). */
  readonly allowedDirs: readonly string[];
  readonly access: AccessControl;
  /** Disconnects a node for good and moves its replicas (POST /v1/nodes/:id/revoke). */
  readonly revokeNode: (nodeId: string) => Promise<unknown>;
  /** How often a quiet routes watch sends a keep-alive line (default 5 s). */
  readonly watchKeepAliveMs?: number;
}

/**
 * The coordinator's REST API (/v1). Built without listen() so tests can mount it; errors become
 * HTTP statuses only in the error handler at the bottom. Every route but /healthz needs an API
 * key with the scope named beside it, checked before the body is read.
 */
export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const text = express.text({ type: () => true, limit: deps.bodyLimit });
  const submit = requireScope(deps.access, 'submit');
  const read = requireScope(deps.access, 'read');
  const admin = requireScope(deps.access, 'admin');

  app.get('/healthz', async (_req, res) => {
    const checks = await deps.health();
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks });
  });

  app.post('/v1/pipelines', submit, text, async (req: Request, res: Response) => {
    const body = typeof req.body === 'string' ? req.body : '';
    if (body.trim() === '') throw new GridlineError('INVALID_PIPELINE', 'the request body is empty: send the pipeline or model deployment YAML or JSON');
    const contentType = req.headers['content-type'] ?? '';
    const format = contentType.includes('json') ? 'json' : contentType.includes('yaml') ? 'yaml' : 'auto';
    const parseOptions = { format, sourceName: String(req.query.source ?? 'request body') } as const;
    const spec = parseWorkload(body, parseOptions);
    checkWorkloadPaths(spec, body, parseOptions, deps.allowedDirs);
    if (req.query.dryRun === 'true' || req.query.dryRun === '1') {
      const preview = deps.runs.preview(spec);
      res.status(200).json({ dryRun: true, kind: spec.kind, pipeline: spec.metadata.name, ...preview });
      return;
    }
    const run = await deps.runs.submit(spec);
    res.status(201).location(`/v1/runs/${run.id}`).json({ runId: run.id, kind: spec.kind, status: run.status });
  });

  app.get('/v1/runs', read, (_req, res) => {
    res.json({ runs: deps.runs.listRuns().map(({ spec, ...r }) => ({ ...r, kind: spec.kind })) });
  });

  app.get('/v1/runs/:id', read, async (req, res) => {
    res.json(await deps.runs.view(req.params.id));
  });

  // The dead-letter queue: items that failed for good, with the error and their source key.
  app.get('/v1/runs/:id/dlq', read, async (req, res) => {
    const letters = await deps.runs.deadLetters(req.params.id);
    res.json({ runId: req.params.id, total: letters.length, items: letters });
  });

  app.post('/v1/runs/:id/dlq/replay', submit, async (req, res) => {
    const { run, items } = await deps.runs.replay(req.params.id);
    res.status(201).location(`/v1/runs/${run.id}`).json({ runId: run.id, replayOf: req.params.id, items, status: run.status });
  });

  app.delete('/v1/runs/:id', submit, async (req, res) => {
    const run = await deps.runs.cancel(req.params.id);
    res.json({ runId: run.id, kind: run.spec.kind, status: run.status });
  });

  app.get('/v1/nodes', read, (_req, res) => {
    res.json({ nodes: deps.registry.list() });
  });

  // Drain: the node takes nothing new and its replicas move, each finishing the chunks it holds.
  app.post('/v1/nodes/:id/drain', admin, async (req, res) => {
    const { node, moved } = await deps.runs.drainNode(req.params.id);
    res.json({ node, moved });
  });

  app.post('/v1/nodes/:id/undrain', admin, async (req, res) => {
    res.json({ node: await deps.runs.undrainNode(req.params.id) });
  });

  // Revocation: the node's credential is void, its stream closed, its replicas move, and its id
  // may not register again.
  app.post('/v1/nodes/:id/revoke', admin, async (req, res) => {
    res.json({ node: await deps.revokeNode(req.params.id) });
  });

  app.use('/v1', accessRoutes(deps.access, admin));

  // Service discovery for gateways: model version -> replicas (node inference addresses).
  app.get('/v1/routes', read, (_req, res) => {
    const snapshot: RoutesSnapshot = deps.routes.current();
    res.json(snapshot);
  });

  // The same as a watch: one JSON line per table (the current one at once, then each change),
  // and a keep-alive line when quiet, so a gateway started or restarted later catches up at once
  // and notices a dead coordinator within a few keep-alives. A caller with the gateway scope also
  // gets the key table (hashes only) and the service token, so it checks its callers itself.
  app.get('/v1/routes/watch', requireAnyScope(deps.access, ['read', 'gateway']), (req, res) => {
    const caller = res.locals.caller as Caller;
    res.status(200).set({ 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const send = (snapshot: RoutesSnapshot): void => {
      if (res.writableEnded) return;
      res.write(`${JSON.stringify({ type: 'snapshot', ...snapshot })}\n`);
    };
    // The key is checked again on every key-table change and keep-alive: a watch opened with a
    // key revoked or expired since is ended, so it learns nothing more (keys, service token).
    const stillValid = (): boolean => {
      if (res.writableEnded) return false;
      try {
        deps.access.verify(req.headers.authorization, hasScope(caller.scopes, 'gateway') ? 'gateway' : 'read');
        return true;
      } catch (err) {
        res.end(`${JSON.stringify({ type: 'error', error: toGridlineError(err).toJSON() })}\n`);
        return false;
      }
    };
    const sendKeys = (): void => {
      if (!stillValid()) return;
      if (hasScope(caller.scopes, 'gateway')) {
        res.write(`${JSON.stringify({ type: 'keys', keys: deps.access.keyEntries(), serviceToken: deps.access.serviceToken() })}\n`);
      }
    };
    sendKeys();
    const unsubscribeKeys = deps.access.subscribe(sendKeys);
    send(deps.routes.current());
    const unsubscribe = deps.routes.subscribe(send);
    const keepAlive = setInterval(() => {
      if (stillValid()) res.write('{"type":"keepalive"}\n');
    }, deps.watchKeepAliveMs ?? 5_000);
    keepAlive.unref();
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      void unsubscribeKeys();
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

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import type { RunView } from '../common/run-types.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { waitFor } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { TEST_ADMIN_KEY, authedFetch } from './support/auth.js';

const OCR = await readFile(new URL('../pipelines/ocr.yaml', import.meta.url), 'utf8');

/** The REST API against a real coordinator and Redis, with no worker nodes at all. */
describe('coordinator REST API', () => {
  let c: RunningCoordinator;
  let cleanup: () => Promise<void>;
  const api = (path: string, init?: RequestInit) => authedFetch(`${c.httpUrl}${path}`, init);
  const submit = (body: string, query = '') => api(`/v1/pipelines${query}`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body });

  beforeAll(async () => {
    const t = testPrefix('api');
    cleanup = t.cleanup;
    c = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, unschedulableTimeoutMs: 1500 }, silentLogger);
  });
  afterAll(async () => {
    await c.stop();
    await cleanup();
  });

  it('answers health with Redis status', async () => {
    const res = await api('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { redis: 'ok' } });
  });

  it('accepts a pipeline, shows it pending with the reason, and cancels it', async () => {
    const res = await submit(OCR);
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };
    expect(res.headers.get('location')).toBe(`/v1/runs/${runId}`);
    const view = await waitFor('a pending reason', async () => {
      const v = (await (await api(`/v1/runs/${runId}`)).json()) as RunView;
      return v.reason?.includes('cannot be placed') ? v : null;
    });
    expect(view.status).toBe('pending');
    expect(view.reason).toMatch(/no ready nodes/);
    expect(view.stages.map((s) => s.name)).toContain('recognize');
    expect(view.replicas.every((r) => r.nodeId === null)).toBe(true);

    const cancel = await api(`/v1/runs/${runId}`, { method: 'DELETE' });
    expect(await cancel.json()).toEqual({ runId, kind: 'Pipeline', status: 'cancelled' });
    const again = await api(`/v1/runs/${runId}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('CONFLICT');
    const after = (await (await api(`/v1/runs/${runId}`)).json()) as RunView;
    expect(after.replicas).toEqual([]);
  });

  it('fails a run that stays unschedulable, saying which resource is short', async () => {
    const { runId } = (await (await submit(OCR)).json()) as { runId: string };
    const view = await waitFor('the run to fail', async () => {
      const v = (await (await api(`/v1/runs/${runId}`)).json()) as RunView;
      return v.status === 'failed' ? v : null;
    }, 20_000);
    expect(view.reason).toMatch(/unschedulable/);
  });

  it('previews placement without starting anything', async () => {
    const before = ((await (await api('/v1/runs')).json()) as { runs: unknown[] }).runs.length;
    const res = await submit(OCR, '?dryRun=true');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { dryRun: boolean; placement: { unplaced: { summary: string }[] } };
    expect(body.dryRun).toBe(true);
    expect(body.placement.unplaced.length).toBe(7);
    expect(((await (await api('/v1/runs')).json()) as { runs: unknown[] }).runs.length).toBe(before);
  });

  it('maps bad requests to clear 4xx errors and keeps serving', async () => {
    const empty = await submit('   ');
    expect(empty.status).toBe(400);
    const big = await submit(`# ${'x'.repeat(1024 * 1024 + 10)}`);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    const yaml = await submit('spec: [unclosed');
    expect(yaml.status).toBe(400);
    const missing = await api('/v1/runs/nope');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/no run with id nope/);
    const route = await api('/v2/whatever');
    expect(route.status).toBe(404);
    expect((await api('/healthz')).status).toBe(200);
  });

  it('lists no nodes when none registered', async () => {
    expect(await (await api('/v1/nodes')).json()).toEqual({ nodes: [] });
  });
});

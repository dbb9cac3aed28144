import { request } from 'node:http';
import { createServer } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { createModelServerMetrics } from '../model-server/model-server-metrics.js';
import { startMetricsServer } from './metrics-server.js';
import type { MetricsServer } from './metrics-server.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request on a fresh connection. */
function fetchFrom(server: MetricsServer, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const started: MetricsServer[] = [];
async function start(registries: Registry[]): Promise<MetricsServer> {
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registries, logger: silentLogger });
  started.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe('startMetricsServer', () => {
  it('listens on a free port for port 0 and reports its address', async () => {
    const server = await start([]);
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
  });

  it('serves the model server series on GET /metrics, with the Prometheus content type', async () => {
    const modelMetrics = createModelServerMetrics();
    modelMetrics.request({ model: 'resnet', version: '1' }, 'success', 0.012);
    const other = new Registry();
    new Counter({ name: 'gridline_test_other_total', help: 'another registry', registers: [other] }).inc(3);
    const server = await start([modelMetrics.registry, other]);

    const answer = await fetchFrom(server, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
    expect(answer.body).toContain('gridline_inference_requests_total{model="resnet",version="1",outcome="success"} 1');
    expect(answer.body).toContain('gridline_test_other_total 3');

    // A scrape reads the registries now, not as they were at startup.
    modelMetrics.request({ model: 'resnet', version: '1' }, 'success', 0.02);
    expect((await fetchFrom(server, '/metrics?x=1')).body).toContain('outcome="success"} 2');
  });

  it('answers HEAD /metrics without a body', async () => {
    const server = await start([createModelServerMetrics().registry]);
    const answer = await fetchFrom(server, '/metrics', 'HEAD');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('');
  });

  it('answers /healthz with {"status":"ok"}', async () => {
    const server = await start([]);
    const answer = await fetchFrom(server, '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ status: 'ok' });
  });

  it('gives 404 for any other path and 405 for any other method', async () => {
    const server = await start([]);
    for (const path of ['/', '/metrics/', '/v2/health/ready', '/healthz/x']) {
      expect((await fetchFrom(server, path)).status).toBe(404);
    }
    const post = await fetchFrom(server, '/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await fetchFrom(server, '/healthz', 'DELETE')).status).toBe(405);
  });

  it('refuses registries holding the same metric name', async () => {
    const a = createModelServerMetrics().registry;
    const b = createModelServerMetrics().registry;
    await expect(start([a, b])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /gridline_inference_requests_total/ });
  });

  it('refuses a bad port, and a port in use with UNAVAILABLE', async () => {
    const badPort = startMetricsServer({ host: '127.0.0.1', port: 70_000, registries: [], logger: silentLogger });
    await expect(badPort).rejects.toBeInstanceOf(GridlineError);
    await expect(badPort).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const address = blocker.address();
    const taken = address !== null && typeof address === 'object' ? address.port : 0;
    try {
      await expect(startMetricsServer({ host: '127.0.0.1', port: taken, registries: [], logger: silentLogger }))
        .rejects.toMatchObject({ code: 'UNAVAILABLE', message: new RegExp(`cannot listen on 127.0.0.1:${taken}`) });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('stop() closes the port, keep-alive connections included, and can be called twice', async () => {
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registries: [], logger: silentLogger });
    // A keep-alive connection, as Prometheus holds one, must not keep stop() waiting.
    const keepAlive = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path: '/healthz', headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject).end();
    });
    expect(keepAlive).toBe(200);
    await Promise.all([server.stop(), server.stop()]);
    await expect(fetchFrom(server, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

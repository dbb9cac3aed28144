import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import * as http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuzzTally } from '../common/fuzz-tally.js';
import { HTTP_SERVER_LIMITS } from '../common/http-server-limits.js';
import { TEST_ADMIN_KEY, authHeaders } from './support/auth.js';
import { ADD_ONE, alive, startInferenceCluster, type InferenceCluster } from './support/inference-cluster.js';
import { inferClient, validGrpc, validRest, type InferClient } from './support/inference-calls.js';
import { waitFor } from './support/processes.js';

// Bad input against real processes (a coordinator, a worker and a gateway on loopback): slow
// clients, raw garbage on every port, malformed gRPC frames over HTTP/2, oversized bodies,
// pathological pipeline documents. Each gets an error or a closed connection, every process stays
// up, and valid inferences are answered correctly meanwhile and afterwards. No timing is asserted.
const tally = new FuzzTally('bad input against running processes');

let cluster: InferenceCluster;
let gatewayClient: InferClient;
let workerClient: InferClient;
let n = 0;

/** Every process is up and answers a valid inference correctly: REST and gRPC via the gateway, gRPC direct to the worker. */
async function expectHealthy(): Promise<void> {
  for (const p of [cluster.coordinator.process, cluster.worker.process, cluster.gateway.process]) expect(alive(p), cluster.logs()).toBe(true);
  expect(await validRest(cluster.gateway.http, ++n), cluster.logs()).toBeNull();
  expect(await validGrpc(gatewayClient, ++n), cluster.logs()).toBeNull();
  expect(await validGrpc(workerClient, ++n), cluster.logs()).toBeNull();
  const health = await fetch(`http://127.0.0.1:${cluster.coordinator.http}/healthz`, { headers: authHeaders() });
  expect(health.status).toBe(200);
  const metrics = await fetch(`http://127.0.0.1:${cluster.worker.metrics}/healthz`);
  expect(metrics.status).toBe(200);
}

interface Port {
  readonly name: string;
  readonly port: () => number;
  readonly kind: 'http' | 'grpc';
}

const PORTS: readonly Port[] = [
  { name: 'gateway REST', port: () => cluster.gateway.http, kind: 'http' },
  { name: 'gateway gRPC', port: () => cluster.gateway.grpc, kind: 'grpc' },
  { name: 'worker model server gRPC', port: () => cluster.worker.inference, kind: 'grpc' },
  { name: 'worker metrics', port: () => cluster.worker.metrics, kind: 'http' },
  { name: 'coordinator REST', port: () => cluster.coordinator.http, kind: 'http' },
  { name: 'coordinator gRPC', port: () => cluster.coordinator.grpc, kind: 'grpc' },
];

interface RawOutcome {
  readonly closedByServer: boolean;
  readonly firstBytes: string;
}

/** Connects, runs `talk`, and reports whether the server closed the socket within `waitMs`, and what it said first. */
function rawExchange(port: number, talk: (s: Socket) => void, waitMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closedByServer, firstBytes: received.subarray(0, 40).toString('latin1') });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('connect', () => talk(socket));
    socket.on('data', (d: Buffer) => {
      if (received.length < 1024) received = Buffer.concat([received, d]);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

function describeRaw(o: RawOutcome): string {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(o.firstBytes)?.[1];
  const said = status !== undefined ? `HTTP ${status}` : o.firstBytes.length === 0 ? 'nothing' : o.firstBytes.startsWith('\0\0') ? 'HTTP/2 frames (GOAWAY)' : 'bytes';
  return `${said}, ${o.closedByServer ? 'closed' : 'left open'}`;
}

describe('bad input against a running coordinator, worker and gateway', () => {
  beforeAll(async () => {
    cluster = await startInferenceCluster('bad-input');
    gatewayClient = inferClient(cluster.gateway.grpc);
    workerClient = inferClient(cluster.worker.inference, cluster.serviceToken);
    await expectHealthy();
  });

  afterAll(async () => {
    tally.print();
    gatewayClient?.close();
    workerClient?.close();
    await cluster?.stop();
  });

  it('closes slowloris connections on every HTTP server and answers valid requests meanwhile', async () => {
    const httpPorts = PORTS.filter((p) => p.kind === 'http');
    const waitMs = HTTP_SERVER_LIMITS.headersTimeoutMs + 20_000;
    const slow: Promise<void>[] = [];
    for (const p of httpPorts) {
      for (const variant of ['headers byte by byte', 'connect and send nothing', 'request line only'] as const) {
        for (let i = 0; i < 3; i++) {
          slow.push(rawExchange(p.port(), (s) => {
            if (variant === 'connect and send nothing') return;
            const text = variant === 'request line only' ? 'GET /v2/health/live HTTP/1.1\r\n' : `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_ADMIN_KEY}\r\nX-Slow: ${'a'.repeat(200)}`;
            let at = 0;
            const drip = setInterval(() => {
              if (s.destroyed || at >= text.length) return clearInterval(drip);
              s.write(text[at++]!);
            }, 250);
            s.once('close', () => clearInterval(drip));
          }, waitMs).then((o) => {
            tally.record(`slowloris: ${variant}`, `${p.name}: ${describeRaw(o)}`);
            expect(o.closedByServer, `${p.name} ${variant}`).toBe(true);
          }));
        }
      }
    }
    // While 27 slow sockets are open, valid requests go through.
    for (let i = 0; i < 3; i++) await expectHealthy();
    await Promise.all(slow);
    await expectHealthy();
  });

  it('survives raw TCP garbage on every port', async () => {
    const payloads: Record<string, () => Buffer> = {
      'random bytes': () => randomBytes(512),
      'HTTP/2 preface then garbage': () => Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), randomBytes(256)]),
      'HTTP/2 preface, frame declaring 16 MiB': () => Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0x00, 0x00, 0, 0, 0, 0]), randomBytes(64)]),
      'TLS ClientHello-like': () => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), randomBytes(300)]),
      'HTTP/1.1 to any port': () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      'header overflow': () => Buffer.from(`GET / HTTP/1.1\r\n${Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(100)}`).join('\r\n')}\r\n\r\n`),
      'NUL bytes': () => Buffer.alloc(4096),
    };
    for (const p of PORTS) {
      for (const [kind, payload] of Object.entries(payloads)) {
        for (let i = 0; i < 3; i++) {
          const o = await rawExchange(p.port(), (s) => s.end(payload()), 5_000);
          tally.record(`raw TCP garbage: ${kind}`, `${p.name}: ${describeRaw(o)}`);
        }
      }
    }
    await expectHealthy();
  });

  it('answers malformed gRPC frames over HTTP/2 with an error status', async () => {
    const targets = [
      { name: 'gateway', port: () => cluster.gateway.grpc, path: '/inference.GRPCInferenceService/ModelInfer', key: () => TEST_ADMIN_KEY },
      { name: 'worker', port: () => cluster.worker.inference, path: '/inference.GRPCInferenceService/ModelInfer', key: () => cluster.serviceToken },
      { name: 'coordinator', port: () => cluster.coordinator.grpc, path: '/gridline.cluster.v1.Cluster/Register', key: () => TEST_ADMIN_KEY },
    ];
    const frame = (flag: number, declared: number, body: Buffer): Buffer => {
      const head = Buffer.alloc(5);
      head[0] = flag;
      head.writeUInt32BE(declared >>> 0, 1);
      return Buffer.concat([head, body]);
    };
    const bodies: Record<string, () => Buffer> = {
      'length prefix of 4 GiB': () => frame(0, 0xffffffff, randomBytes(16)),
      'length prefix past the data (truncated message)': () => frame(0, 100, randomBytes(10)),
      'compressed flag, no grpc-encoding': () => frame(1, 16, randomBytes(16)),
      'garbage protobuf': () => { const b = randomBytes(64); return frame(0, b.length, b); },
      'protobuf with a wrong wire type for model_name': () => frame(0, 3, Buffer.from([0x0d, 0x01, 0x02])),
      'no message at all': () => Buffer.alloc(0),
      'two messages for a unary call': () => Buffer.concat([frame(0, 0, Buffer.alloc(0)), frame(0, 0, Buffer.alloc(0))]),
      'half a frame header': () => Buffer.from([0, 0, 0]),
      'bad flag byte 0x7f': () => frame(0x7f, 4, Buffer.from('abcd')),
    };
    for (const t of targets) {
      const session = http2.connect(`http://127.0.0.1:${t.port()}`);
      session.on('error', () => {});
      const call = (path: string, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<string> => new Promise((resolve) => {
        const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${t.key()}`, ...headers });
        let status = '';
        let grpcStatus = '';
        const timer = setTimeout(() => {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          resolve('no answer in 15 s');
        }, 15_000);
        stream.on('response', (h) => {
          status = String(h[':status']);
          if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
        });
        stream.on('trailers', (h) => {
          if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
        });
        stream.on('data', () => {});
        stream.on('error', () => {});
        stream.on('close', () => {
          clearTimeout(timer);
          resolve(grpcStatus !== '' ? `grpc-status ${grpc.status[Number(grpcStatus)] ?? grpcStatus}` : `HTTP ${status || 'reset'}`);
        });
        stream.end(body);
      });
      for (const [kind, body] of Object.entries(bodies)) {
        for (let i = 0; i < 3; i++) {
          const outcome = await call(t.path, {}, body());
          tally.record(`HTTP/2 gRPC: ${kind}`, `${t.name}: ${outcome}`);
          expect(outcome, `${t.name} ${kind}`).not.toMatch(/grpc-status OK|no answer/);
        }
      }
      const extra: [string, string, http2.OutgoingHttpHeaders][] = [
        ['unknown method', '/inference.GRPCInferenceService/NoSuchMethod', {}],
        ['unknown service', '/nope.Nope/Nope', {}],
        ['grpc-encoding the server lacks', t.path, { 'grpc-encoding': 'snappy' }],
        ['wrong content-type', t.path, { 'content-type': 'text/plain' }],
        ['grpc-timeout garbage', t.path, { 'grpc-timeout': 'soon' }],
      ];
      for (const [kind, path, headers] of extra) {
        const outcome = await call(path, headers, frame(0, 0, Buffer.alloc(0)));
        tally.record(`HTTP/2 gRPC: ${kind}`, `${t.name}: ${outcome}`);
        expect(outcome, `${t.name} ${kind}`).not.toMatch(/grpc-status OK|no answer/);
      }
      session.close();
    }
    await expectHealthy();
  });

  it('refuses oversized bodies: 413 over REST, RESOURCE_EXHAUSTED over gRPC, PAYLOAD_TOO_LARGE from the coordinator', async () => {
    const limit = 64 * 1024 * 1024;
    // A body that really is larger than the limit, streamed.
    const big = Buffer.alloc(limit + 1024, 0x20);
    const res = await fetch(`http://127.0.0.1:${cluster.gateway.http}/v2/models/${ADD_ONE}/infer`, {
      method: 'POST', headers: authHeaders({ 'content-type': 'application/json' }), body: big,
    }).catch((err: Error) => err);
    const rest = res instanceof Error ? `client error ${res.message}` : `HTTP ${res.status}`;
    tally.record('oversized: REST body 64 MiB + 1 KiB', `gateway: ${rest}`);
    expect(rest).toBe('HTTP 413');
    if (!(res instanceof Error)) expect(((await res.json()) as { error: string }).error).toMatch(/^body: .*above the limit of 67108864 bytes/);

    // A Content-Length over the limit, with little behind it: refused from the header.
    const declared = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: cluster.gateway.http, method: 'POST', path: `/v2/models/${ADD_ONE}/infer`, headers: authHeaders({ 'content-type': 'application/json', 'content-length': String(limit * 4) }) }, (r) => {
        r.resume();
        resolve(`HTTP ${r.statusCode}`);
      });
      req.on('error', (err) => resolve(`client error ${err.message}`));
      req.write('{"inputs":');
    });
    tally.record('oversized: REST Content-Length 256 MiB, 10 bytes sent', `gateway: ${declared}`);
    expect(declared).toBe('HTTP 413');

    const grpcOutcome = await new Promise<string>((resolve) => {
      gatewayClient.ModelInfer({ modelName: ADD_ONE, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], rawInputContents: [big] }, { deadline: Date.now() + 60_000 }, (err) => {
        resolve(err === null ? 'OK' : grpc.status[err.code] ?? String(err.code));
      });
    });
    tally.record('oversized: gRPC message 64 MiB + 1 KiB', `gateway: ${grpcOutcome}`);
    expect(grpcOutcome).toBe('RESOURCE_EXHAUSTED');

    const pipeline = await fetch(`http://127.0.0.1:${cluster.coordinator.http}/v1/pipelines`, {
      method: 'POST', headers: authHeaders({ 'content-type': 'application/yaml' }), body: `a: ${'x'.repeat(2 * 1024 * 1024)}`,
    });
    const body = (await pipeline.json()) as { error?: { code?: string } };
    tally.record('oversized: pipeline document 2 MiB', `coordinator: HTTP ${pipeline.status} ${body.error?.code ?? ''}`);
    expect(pipeline.status).toBe(413);
    expect(body.error?.code).toBe('PAYLOAD_TOO_LARGE');
    await expectHealthy();
  });

  it('answers pathological pipeline documents with INVALID_PIPELINE and stays up', async () => {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const documents: [string, string][] = [
      // This pair aborted the process before read-document.ts refused deep nesting up front.
      ['1,000 levels of [', `${'['.repeat(1000)}${']'.repeat(1000)}`],
      ['1,000 levels of {"a":', `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`],
      ['10,000 levels of - ', `${'- '.repeat(10_000)}1`],
      ['billion laughs', bomb.join('\n')],
      ['self-referencing alias', 'a: &a [*a]'],
      ['not YAML', '{{{: :: - ]'],
      ['binary', randomBytes(2048).toString('latin1')],
      ['unknown fields and wrong types', 'apiVersion: gridline/v1\nkind: Pipeline\nmetadata: { name: 3 }\nspec: { stages: 7, unknown: true }'],
    ];
    for (const [kind, text] of documents) {
      const res = await fetch(`http://127.0.0.1:${cluster.coordinator.http}/v1/pipelines?dryRun=true`, { method: 'POST', headers: authHeaders({ 'content-type': 'application/yaml' }), body: text });
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      tally.record(`pipeline document: ${kind}`, `coordinator: HTTP ${res.status} ${body.error?.code ?? ''}`);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(body.error?.code).toBe('INVALID_PIPELINE');
      expect(body.error?.message?.length).toBeGreaterThan(0);
      expect(alive(cluster.coordinator.process), cluster.logs()).toBe(true);
    }
    await waitFor('the coordinator to answer', async () => (await fetch(`http://127.0.0.1:${cluster.coordinator.http}/healthz`, { headers: authHeaders() })).status === 200);
    await expectHealthy();
  });
});

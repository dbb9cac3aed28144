/**
 * Load generators for the inference benchmarks, cheap enough per call that the client is not what
 * limits the figure: gRPC ModelInfer sent as pre-serialized bytes over a few grpc-js channels (the
 * response is not decoded past a check of the first one), and REST over keep-alive node:http
 * agents with the body built once. Each reports the CPU this process spent while it ran, so a
 * table can show whether the client was near a core.
 */
import { Agent, request as httpRequest } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { deserializeInferResponse, rawInferenceService, serializeInferRequest } from '../gateway/infer-wire.js';
import type { ModelInferRequest } from '../proto/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../proto/generated/inference/ModelInferResponse.js';
import { percentile } from './harness.js';
import { fp32Bytes } from './inference-models.js';
import { BENCH_AUTHORIZATION } from './bench-auth.js';

/** One inference call, resolving with the response's size in bytes; rejects on any failure. */
export interface InferClient {
  call(): Promise<number>;
  close(): void;
}

const CALL_TIMEOUT_MS = 30_000;

/** A serialized ModelInferRequest for one FP32 input sent as raw bytes. */
export function grpcInferRequest(model: string, input: string, shape: readonly number[]): Buffer {
  const request: ModelInferRequest = {
    modelName: model,
    inputs: [{ name: input, datatype: 'FP32', shape: [...shape] }],
    rawInputContents: [fp32Bytes(shape)],
  };
  return serializeInferRequest(request);
}

/**
 * ModelInfer over `channels` grpc-js channels (each its own HTTP/2 connection), calls spread round
 * robin. `check` sees the first response decoded.
 */
export function grpcInferClient(address: string, request: Buffer, options: { channels: number; check?: (r: ModelInferResponse__Output) => void }): InferClient {
  const Ctor = grpc.makeGenericClientConstructor(rawInferenceService(), 'GRPCInferenceService');
  const clients = Array.from({ length: options.channels }, () => new Ctor(address, grpc.credentials.createInsecure(), {
    // A connection of its own per channel, not one shared subchannel.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': -1,
  }));
  const methods = clients.map((c) => (c as unknown as { ModelInfer: (req: Buffer, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void }).ModelInfer.bind(c));
  let next = 0;
  let checked = options.check === undefined;
  const metadata = new grpc.Metadata();
  metadata.set('authorization', BENCH_AUTHORIZATION);
  return {
    call: () => new Promise<number>((resolve, reject) => {
      const method = methods[next++ % methods.length]!;
      method(request, metadata, { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) => {
        if (err !== null || res === undefined) {
          reject(err ?? new Error('no response'));
          return;
        }
        if (!checked) {
          checked = true;
          try {
            options.check?.(deserializeInferResponse(res));
          } catch (e) {
            reject(e as Error);
            return;
          }
        }
        resolve(res.length);
      });
    }),
    close: () => {
      for (const c of clients) c.close();
    },
  };
}

/** A REST request body: the JSON header and, for the binary extension, the tensor bytes after it. */
export interface RestBody {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** An OIP REST request with one FP32 input as binary data (Triton's extension), binary outputs asked for. */
export function restBinaryBody(input: string, shape: readonly number[]): RestBody {
  const raw = fp32Bytes(shape);
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: input, shape, datatype: 'FP32', parameters: { binary_data_size: raw.length } }],
    parameters: { binary_data_output: true },
  }));
  return {
    body: Buffer.concat([header, raw]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}

/** An OIP REST request with one FP32 input as JSON numbers. */
export function restJsonBody(input: string, shape: readonly number[]): RestBody {
  const data = Array.from(new Float32Array(fp32Bytes(shape).buffer));
  return {
    body: Buffer.from(JSON.stringify({ inputs: [{ name: input, shape, datatype: 'FP32', data }] })),
    headers: { 'content-type': 'application/json' },
  };
}

/**
 * POSTs `body` to http://127.0.0.1:port/path over keep-alive connections (at most `connections`).
 * `check` sees the first response body.
 */
export function restInferClient(port: number, path: string, body: RestBody, options: { connections: number; check?: (status: number, body: Buffer) => void }): InferClient {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections });
  const headers = { ...body.headers, 'content-length': String(body.body.length), authorization: BENCH_AUTHORIZATION };
  let checked = options.check === undefined;
  return {
    call: () => new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent, headers, timeout: CALL_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (!checked || res.statusCode !== 200) chunks.push(c);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            reject(new Error(`HTTP ${status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
            return;
          }
          if (!checked) {
            checked = true;
            try {
              options.check?.(status, Buffer.concat(chunks));
            } catch (e) {
              reject(e as Error);
              return;
            }
          }
          resolve(size);
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body.body);
    }),
    close: () => agent.destroy(),
  };
}

/** Cores this process used between two readings of process.cpuUsage(). */
function coresSince(cpu: NodeJS.CpuUsage, wallMs: number): number {
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000 / wallMs;
}

export interface LatencyResult {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Cores this process used meanwhile. */
  readonly clientCores: number;
}

/** `count` calls one after the other, each timed. */
export async function measureSequential(call: () => Promise<unknown>, count: number, signal: AbortSignal): Promise<LatencyResult> {
  const times: number[] = [];
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    signal.throwIfAborted();
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  const wall = performance.now() - t0;
  return {
    count,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    clientCores: coresSince(cpu, wall),
  };
}

export interface LoadResult {
  readonly clients: number;
  readonly completed: number;
  readonly failed: number;
  readonly firstError: string | null;
  readonly elapsedMs: number;
  /** Calls completed within the window, per second of the window (the drain after it is not counted). */
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly clientCores: number;
}

/**
 * `clients` closed loops (each sends its next call when the last one answers) for `durationMs`.
 * The rate counts the calls that completed within the window; those still in flight at its end
 * are awaited (and their latency kept) but not counted, so the tail, where fewer calls are in
 * flight, does not dilute it. Fails when more than 1 % of the calls failed: a figure made of
 * errors is no figure.
 */
export async function measureClosedLoop(call: () => Promise<unknown>, options: { clients: number; durationMs: number; signal: AbortSignal }): Promise<LoadResult> {
  const { clients, durationMs, signal } = options;
  const times: number[] = [];
  let inWindow = 0;
  let failed = 0;
  let firstError: string | null = null;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < end && !signal.aborted) {
      const start = performance.now();
      try {
        await call();
        const done = performance.now();
        times.push(done - start);
        if (done <= end) inWindow++;
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  const elapsedMs = performance.now() - t0;
  signal.throwIfAborted();
  const clientCores = coresSince(cpu, elapsedMs);
  if (failed > Math.max(1, times.length / 100)) {
    throw new Error(`${failed} of ${failed + times.length} calls failed under load; the first: ${firstError}`);
  }
  return {
    clients,
    completed: times.length,
    failed,
    firstError,
    elapsedMs,
    perSecond: inWindow / (durationMs / 1000),
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    clientCores,
  };
}

/**
 * Load for `ms` with `clients` closed loops, unmeasured: the processes under test reach their
 * steady state (JIT-compiled paths, grown pools) before the first repetition. Errors are ignored
 * here; the measured repetitions count them.
 */
export async function warmUp(client: InferClient, clients: number, ms: number, signal: AbortSignal): Promise<void> {
  const end = performance.now() + ms;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end && !signal.aborted) await client.call().catch(() => undefined);
  }));
}

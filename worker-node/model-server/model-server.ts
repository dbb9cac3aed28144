import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { grpcServerCredentials } from '../../common/tls/grpc-credentials.js';
import type { TlsMaterial } from '../../common/tls/tls-material.js';
import type { OipDecodeOptions } from '../../common/oip/element-budget.js';
import { oipDatatypeOf } from '../../common/oip/datatypes.js';
import { decodeGrpcRequest, encodeGrpcResponse, type GrpcInferRequest } from '../../common/oip/grpc-codec.js';
import type { InferOutput } from '../../common/oip/infer-messages.js';
import type { Tensor } from '../../common/tensor.js';
import { loadInferenceProto } from '../../proto/load-inference-proto.js';
import type { GRPCInferenceServiceHandlers } from '../../proto/generated/inference/GRPCInferenceService.js';
import type { ModelInferRequest__Output } from '../../proto/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse } from '../../proto/generated/inference/ModelInferResponse.js';
import type { _inference_ModelMetadataResponse_TensorMetadata as ModelMetadataResponse__TensorMetadata } from '../../proto/generated/inference/ModelMetadataResponse.js';
import type { BatcherStats } from '../../services/model-serving/batcher/batcher-stats.js';
import { MAX_TIMEOUT_MS } from '../../services/model-serving/batcher/batcher-options.js';
import type { TensorInfo } from '../../services/model-serving/model-runtime.js';
import type { RuntimeCache } from '../../services/model-serving/runtime-cache.js';
import { checkInferRequest, metadataShape } from './check-infer-request.js';
import { outcomeOf, toGrpcError } from './grpc-status.js';
import { createModelServerMetrics, type ModelServerMetrics } from './model-server-metrics.js';
import { ServedModel, type ModelStatus } from './served-model.js';
import type { ServedModelSpec } from './served-model-spec.js';
import { authInterceptor } from '../../common/grpc-auth-interceptor.js';

export interface ModelServerOptions {
  /** Interface to listen on (e.g. '127.0.0.1', '0.0.0.0'). */
  readonly host: string;
  /** TLS requiring a client certificate from the CA (a gateway's: mutual TLS); null or absent: plaintext. */
  readonly tls?: TlsMaterial | null;
  /** 0: a free port, reported by the handle. */
  readonly port: number;
  readonly models: readonly ServedModelSpec[];
  /** The node's shared sessions: a model a pipeline replica also runs is loaded once. */
  readonly runtimes: RuntimeCache;
  readonly logger: Logger;
  /** Folders relative model uris resolve against (then the working directory). */
  readonly baseDirs?: readonly string[];
  /** Largest request message accepted, in bytes (default 64 MiB). */
  readonly maxMessageBytes?: number;
  /** Most elements one request's inputs may hold (common/oip's default otherwise). */
  readonly maxElements?: number;
  /** How long stop() lets calls in progress finish before cutting them (default 2 s). */
  readonly shutdownGraceMs?: number;
  /** Metrics to record into (default: a registry of its own). */
  readonly metrics?: ModelServerMetrics;
  /**
   * Checks each call's `authorization` metadata and throws to refuse it (all but ServerLive and
   * ServerReady). Absent: every caller is served (in-process tests only; nodes always pass one).
   */
  readonly authorize?: (authorization: string | undefined) => void;
}

export interface ModelServer {
  readonly port: number;
  /** host:port, for a client to dial. */
  readonly address: string;
  readonly metrics: ModelServerMetrics;
  /**
   * Settles once the model has loaded and warmed up (true) or failed to (false, the reason in
   * models()). Rejects with NOT_FOUND for a model the server does not serve.
   */
  ready(name: string): Promise<boolean>;
  /** Every model's state and, when not ready, why. */
  models(): ModelStatus[];
  /**
   * Serves one more model, or holds one already served under that name (the same uri and
   * version; anything else is refused with CONFLICT). It loads and warms up in the background:
   * await `model.loaded`. The last release of a model that did not come from the server's
   * options stops serving it.
   */
  acquire(spec: ServedModelSpec): ServedModelHold;
  /** The model's batcher statistics; null while it has no batcher (loading, failed, stopped). */
  stats(name: string): BatcherStats | null;
  /** Closes the batchers (queued requests fail CANCELLED), hands the runtimes back, shuts the server down. */
  stop(): Promise<void>;
}

/** OIP `platform`: Triton's name for ONNX models; TF.js graph models (`.json`) get their own. */
function platformOf(uri: string): string {
  return /\.json$/i.test(uri) ? 'tensorflowjs_graph' : 'onnxruntime_onnx';
}

export interface ServedModelHold {
  readonly model: ServedModel;
  /** Idempotent. */
  release(): Promise<void>;
}

let packageVersion: string | undefined;

function gridlineVersion(): string {
  if (packageVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      packageVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
    } catch {
      packageVersion = '0.0.0';
    }
  }
  return packageVersion;
}

function tensorMetadata(info: TensorInfo): ModelMetadataResponse__TensorMetadata {
  return { name: info.name, datatype: info.dtype === null ? '' : oipDatatypeOf(info.dtype), shape: metadataShape(info) };
}

/** Throws INVALID_ARGUMENT listing every problem of the model list, before any model loads. */
function checkModelSpecs(specs: readonly ServedModelSpec[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  specs.forEach((spec, i) => {
    if (typeof spec.name !== 'string' || spec.name === '') problems.push(`models[${i}].name must be a non-empty string`);
    else if (seen.has(spec.name)) problems.push(`models[${i}].name: model ${JSON.stringify(spec.name)} is listed twice`);
    seen.add(spec.name);
    if (spec.version !== undefined && (typeof spec.version !== 'string' || spec.version === '')) problems.push(`models[${i}].version must be a non-empty string`);
    if (typeof spec.uri !== 'string' || spec.uri === '') problems.push(`models[${i}].uri must be a non-empty string`);
  });
  if (problems.length > 0) throw new GridlineError('INVALID_ARGUMENT', `model server: ${problems.join('; ')}`, { details: { problems } });
}

/** Milliseconds left before the call's deadline; undefined when it has none. */
function timeLeftMs(call: grpc.ServerUnaryCall<unknown, unknown>): number | undefined {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return undefined;
  return Math.min(MAX_TIMEOUT_MS, Math.ceil(at - Date.now()));
}

/**
 * Starts an Open Inference Protocol gRPC server (inference.GRPCInferenceService) for `models`.
 * It listens at once (ServerLive is true); each model loads from its uri, gets its batcher and is
 * warmed up with one zero-filled inference before it reports ready, so no request meets a cold
 * session. A model that fails to load or warm up stays not ready with the reason (ModelReady
 * false, ModelInfer UNAVAILABLE, a log line); the server serves the others.
 */
export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const { logger } = options;
  const metrics = options.metrics ?? createModelServerMetrics();
  checkModelSpecs(options.models);
  const models = new Map<string, ServedModel>();
  for (const spec of options.models) {
    models.set(spec.name, new ServedModel(spec, {
      runtimes: options.runtimes,
      logger,
      metrics,
      ...(options.baseDirs === undefined ? {} : { baseDirs: options.baseDirs }),
    }));
  }
  // Holders of each model added by acquire(); models from the options are never released.
  const holders = new Map<string, number>();
  const decodeOptions: OipDecodeOptions = options.maxElements === undefined ? {} : { maxElements: options.maxElements };

  /** The model a request names, or NOT_FOUND (an unknown name, or a version it does not serve). */
  function modelOf(name: string, version: string): ServedModel {
    const model = models.get(name);
    if (model === undefined) {
      throw new GridlineError('NOT_FOUND', `model ${JSON.stringify(name)} is not served here (models: ${[...models.keys()].join(', ')})`, { details: { model: name } });
    }
    if (version !== '' && version !== model.version) {
      throw new GridlineError('NOT_FOUND', `model ${name} has no version ${JSON.stringify(version)} here (version: ${model.version})`, { details: { model: name, version } });
    }
    return model;
  }

  async function infer(call: grpc.ServerUnaryCall<ModelInferRequest__Output, ModelInferResponse>, started: number): Promise<ModelInferResponse> {
    let request: GrpcInferRequest;
    try {
      request = decodeGrpcRequest(call.request, decodeOptions);
    } catch (err) {
      // Counted under the model when the request names one served here.
      const named = models.get(String(call.request.modelName));
      if (named !== undefined) metrics.request({ model: named.name, version: named.version }, outcomeOf(err), (performance.now() - started) / 1000);
      throw err;
    }
    const model = modelOf(request.modelName, request.modelVersion);
    const labels = { model: model.name, version: model.version };
    metrics.inflight(labels, 1);
    try {
      const signature = model.signature;
      if (model.state !== 'ready' || signature === null) throw model.notReadyError();
      const checked = checkInferRequest(signature, request);
      const timeoutMs = timeLeftMs(call);
      if (timeoutMs !== undefined && timeoutMs <= 0) {
        throw new GridlineError('DEADLINE_EXCEEDED', `model ${model.name}: the call's deadline passed before it was queued`);
      }
      const abort = new AbortController();
      const onCancel = () => abort.abort(new GridlineError('CANCELLED', 'the client cancelled the call'));
      call.once('cancelled', onCancel);
      if (call.cancelled) onCancel();
      let results: Record<string, Tensor>;
      try {
        results = await model.infer(checked.feeds, {
          priority: 0,
          signal: abort.signal,
          ...(timeoutMs === undefined ? {} : { timeoutMs: Math.max(1, timeoutMs) }),
        });
      } finally {
        call.removeListener('cancelled', onCancel);
      }
      const outputs: InferOutput[] = checked.outputs.map((name) => {
        const t = results[name];
        if (t === undefined) throw new GridlineError('MODEL_ERROR', `model ${model.name} produced no output ${JSON.stringify(name)}`);
        return { name, tensor: t };
      });
      const response = encodeGrpcResponse({ modelName: model.name, modelVersion: model.version, id: request.id, outputs });
      metrics.request(labels, 'success', (performance.now() - started) / 1000);
      return response;
    } catch (err) {
      metrics.request(labels, outcomeOf(err), (performance.now() - started) / 1000);
      throw err;
    } finally {
      metrics.inflight(labels, -1);
    }
  }

  /** Runs a handler, answering its result or its error translated by grpc-status.ts. */
  function unary<Req, Res>(handle: (call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => handle(call))
        .then((res) => callback(null, res), (err: unknown) => callback(toGrpcError(err)));
    };
  }

  const handlers: GRPCInferenceServiceHandlers = {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: [...models.values()].every((m) => m.state === 'ready') })),
    ServerMetadata: unary(() => ({ name: 'gridline', version: gridlineVersion(), extensions: [] })),
    ModelReady: unary((call) => ({ ready: modelOf(call.request.name, call.request.version).state === 'ready' })),
    ModelMetadata: unary((call) => {
      const model = modelOf(call.request.name, call.request.version);
      const signature = model.signature;
      if (signature === null) {
        throw model.notReadyError();
      }
      return {
        name: model.name,
        versions: [model.version],
        platform: platformOf(model.spec.uri),
        inputs: signature.inputs.map(tensorMetadata),
        outputs: signature.outputs.map(tensorMetadata),
      };
    }),
    ModelInfer: (call, callback) => {
      const started = performance.now();
      infer(call, started).then((res) => callback(null, res), (err: unknown) => {
        const error = toGrpcError(err);
        if (error.code === grpc.status.INTERNAL) logger.error({ err }, 'ModelInfer failed');
        callback(error);
      });
    },
  };

  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const server = new grpc.Server({
    // The one gate: a call is refused as its metadata arrives, before its message is read.
    interceptors: options.authorize === undefined ? [] : [authInterceptor((method, authorization) => {
      if (method !== 'ServerLive' && method !== 'ServerReady') options.authorize?.(authorization);
    })],
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(loadInferenceProto().inference.GRPCInferenceService.service, handlers);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${options.port}`, grpcServerCredentials(options.tls ?? null, { requireClientCert: true }), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  } catch (err) {
    await Promise.all([...models.values()].map((m) => m.close()));
    throw new GridlineError('UNAVAILABLE', `model server cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`, { cause: err });
  }
  const address = `${host}:${port}`;
  logger.info({ address, models: [...models.keys()] }, `model server listening on ${address}`);

  let stopping: Promise<void> | undefined;
  return {
    port,
    address,
    metrics,
    ready(name) {
      const model = models.get(name);
      if (model === undefined) return Promise.reject(new GridlineError('NOT_FOUND', `model ${JSON.stringify(name)} is not served here`));
      return model.loaded;
    },
    models: () => [...models.values()].map((m) => m.status()),
    acquire(spec) {
      if (stopping !== undefined) throw new GridlineError('UNAVAILABLE', `model server is stopping: cannot serve ${spec.name}`);
      checkModelSpecs([spec]);
      const version = spec.version ?? '1';
      let model = models.get(spec.name);
      if (model?.state === 'failed') {
        // A model that failed (its load, or its session later) is loaded afresh for a new holder;
        // the old holders' releases no longer touch the new entry.
        const failed = model;
        models.delete(spec.name);
        holders.delete(spec.name);
        void failed.close();
        model = undefined;
      }
      if (model !== undefined && (model.spec.uri !== spec.uri || model.version !== version)) {
        throw new GridlineError('CONFLICT', `model ${spec.name} is already served here as version ${model.version} from ${model.spec.uri}; cannot also serve version ${version} from ${spec.uri}`, {
          details: { model: spec.name },
        });
      }
      if (model === undefined) {
        model = new ServedModel(spec, {
          runtimes: options.runtimes, logger, metrics,
          ...(options.baseDirs === undefined ? {} : { baseDirs: options.baseDirs }),
        });
        models.set(spec.name, model);
        holders.set(spec.name, 0);
        logger.info({ model: spec.name, version, uri: spec.uri }, `serving model ${spec.name} version ${version}: loading`);
      }
      const held = model;
      if (holders.has(spec.name)) holders.set(spec.name, holders.get(spec.name)! + 1);
      let released = false;
      return {
        model: held,
        async release() {
          if (released || !holders.has(held.name) || models.get(held.name) !== held) return;
          released = true;
          const left = holders.get(held.name)! - 1;
          holders.set(held.name, left);
          if (left > 0) return;
          holders.delete(held.name);
          models.delete(held.name);
          await held.close();
          logger.info({ model: held.name, version: held.version }, `stopped serving model ${held.name}`);
        },
      };
    },
    stats: (name) => models.get(name)?.stats() ?? null,
    stop() {
      stopping ??= (async () => {
        const grace = options.shutdownGraceMs ?? 2_000;
        const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        // Closing the batchers answers queued calls (CANCELLED) so the drain need not wait on them.
        await Promise.all([...models.values()].map((m) => m.close()));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([drained, new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, grace);
        })]);
        clearTimeout(timer);
        await Promise.all([...models.values()].map((m) => m.loaded));
        logger.info({ address }, 'model server stopped');
      })();
      return stopping;
    },
  };
}

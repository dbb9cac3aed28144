import { basename } from 'node:path';
import ort from 'onnxruntime-node';
import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { isDType, tensor, type Tensor, type TypedArray } from '../../common/tensor.js';
import type { ModelRuntime, TensorInfo } from './model-runtime.js';
import { fromOnnxStrings, toOnnxStrings } from './onnx-strings.js';

export interface OnnxRuntimeOptions {
  /** Try the CUDA execution provider first, falling back to CPU when it cannot load. */
  readonly useGpu: boolean;
  readonly logger: Logger;
  /** Threads for one operator (onnxruntime's default: one per physical core). */
  readonly intraOpThreads?: number;
  /**
   * Whether idle onnxruntime threads spin waiting for work (onnxruntime's default: yes). Spinning
   * buys latency on a machine of its own; on a node shared with a gateway, other models or stage
   * replicas, spinning threads burn the cores the rest needs.
   */
  readonly spinWait?: boolean;
  /** Name used in log lines (default: the file name). */
  readonly name?: string;
}

function toTensorInfo(meta: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!meta.isTensor) return { name: meta.name, dtype: null, shape: null };
  const dtype = isDType(meta.type) ? meta.type : null;
  // onnxruntime reports [] both for scalars and for unknown shapes: treat it as unknown.
  const shape = meta.shape.length === 0 ? null : meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null));
  return { name: meta.name, dtype, shape };
}

/** Our tensor → onnxruntime's, over the same memory (float16 as its raw bits); strings as UTF-8 text. */
function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === 'string') return new ort.Tensor('string', toOnnxStrings(t.data), t.shape);
  return new ort.Tensor(t.dtype, t.data as ort.Tensor.DataTypeMap[typeof t.dtype], t.shape);
}

function fromOrt(name: string, value: ort.OnnxValue): Tensor {
  const t = value as ort.Tensor;
  if (t.type === 'string' && Array.isArray(t.data)) return tensor('string', t.dims, fromOnnxStrings(t.data as string[]));
  // float16 must come as raw bits (a Float16Array, where the runtime has one, would be converted values).
  const raw = ArrayBuffer.isView(t.data) && (t.type !== 'float16' || t.data instanceof Uint16Array);
  if (!isDType(t.type) || t.type === 'string' || !raw) {
    throw new GridlineError('MODEL_ERROR', `output "${name}" has type ${t.type}, which gridline tensors cannot hold`);
  }
  // onnxruntime-node hands back arrays it allocated for this call: no copy needed.
  return tensor(t.type, t.dims, t.data as TypedArray);
}

async function createSession(path: string, providers: string[], options: Pick<OnnxRuntimeOptions, 'intraOpThreads' | 'spinWait'>): Promise<ort.InferenceSession> {
  const spin = options.spinWait === undefined ? undefined : options.spinWait ? '1' : '0';
  return ort.InferenceSession.create(path, {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads === undefined ? {} : { intraOpNumThreads: options.intraOpThreads }),
    // Session config entries (session.intra_op.allow_spinning, ...), as onnxruntime names them.
    ...(spin === undefined ? {} : { extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } } }),
  });
}

/**
 * Why the CUDA provider libraries failed to load, once they have: they do not appear later in
 * the process, so other models skip the attempt (and onnxruntime's native error line).
 */
let cudaFailure: string | null = null;

/**
 * Loads an ONNX model with onnxruntime-node (the one file that imports it). With useGpu it tries
 * CUDA, then CPU; the provider chosen is logged once per model.
 */
export async function createOnnxRuntime(path: string, options: OnnxRuntimeOptions): Promise<ModelRuntime> {
  const name = options.name ?? basename(path);
  const { logger } = options;
  let session: ort.InferenceSession | undefined;
  let reason: string | null = null;
  if (options.useGpu && cudaFailure === null) {
    try {
      session = await createSession(path, ['cuda', 'cpu'], options);
      logger.info({ model: name, provider: 'cuda' }, `model ${name}: running on CUDA`);
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
      if (/failed to load|shared (library|object)/i.test(reason)) cudaFailure = reason;
    }
  }
  if (session === undefined && options.useGpu) {
    reason ??= cudaFailure;
    logger.warn({ model: name, provider: 'cpu', reason }, `model ${name}: CUDA execution provider unavailable, falling back to CPU`);
  }
  if (session === undefined) {
    try {
      session = await createSession(path, ['cpu'], options);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new GridlineError('MODEL_LOAD_FAILED', `model ${name}: onnxruntime cannot load ${path}: ${why}`, { cause: err });
    }
    if (!options.useGpu) logger.info({ model: name, provider: 'cpu' }, `model ${name}: running on CPU (no GPU assigned)`);
  }

  const live = session;
  const inputs = Object.freeze(live.inputMetadata.map(toTensorInfo));
  const outputs = Object.freeze(live.outputMetadata.map(toTensorInfo));
  let closed = false;
  return {
    inputs,
    outputs,
    async run(feeds) {
      if (closed) throw new GridlineError('MODEL_ERROR', `model ${name} is closed`);
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [key, value] of Object.entries(feeds)) ortFeeds[key] = toOrt(value);
      let results: ort.InferenceSession.ReturnType;
      try {
        results = await live.run(ortFeeds);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new GridlineError('MODEL_ERROR', `model ${name}: run failed: ${reason}`, { cause: err });
      }
      const out: Record<string, Tensor> = {};
      for (const [key, value] of Object.entries(results)) out[key] = fromOrt(key, value);
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await live.release();
    },
  };
}

import { createRequire } from 'node:module';
import { basename, dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { tensor, type DType, type Tensor } from '../../common/tensor.js';
import type { ModelRuntime, TensorInfo } from './model-runtime.js';
import { readTfjsGraphModel } from './tfjs-model-files.js';

export interface TfjsRuntimeOptions {
  /** Prefer @tensorflow/tfjs-node-gpu when installed (see chooseBackend for the per-thread catch). */
  readonly useGpu: boolean;
  readonly logger: Logger;
  /** Name used in log lines (default: the file name, or the folder's for model.json). */
  readonly name?: string;
}

/** A package that provides a TF.js backend, in the order tried. */
interface BackendCandidate {
  readonly pkg: string;
  readonly backend: string;
}

const NODE_GPU: BackendCandidate = { pkg: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow' };
const NODE: BackendCandidate = { pkg: '@tensorflow/tfjs-node', backend: 'tensorflow' };
const WASM: BackendCandidate = { pkg: '@tensorflow/tfjs-backend-wasm', backend: 'wasm' };

/**
 * The backend packages to try, best first. tfjs-node-gpu only with a GPU granted: it would claim
 * GPU memory for a replica that was placed as CPU work. The native ones are optional (they
 * download libtensorflow at install, so an offline `npm ci` cannot have them); wasm ships its
 * binaries in the npm package and always works.
 */
function candidates(useGpu: boolean): readonly BackendCandidate[] {
  return useGpu ? [NODE_GPU, NODE, WASM] : [NODE, WASM];
}

/** The backend packages tried, in order. */
export function tfjsBackendOrder(useGpu: boolean): readonly string[] {
  return candidates(useGpu).map((c) => c.pkg);
}

interface ChosenBackend {
  readonly pkg: string;
  readonly backend: string;
  /** What the log line says it runs on. */
  readonly label: string;
  readonly onGpu: boolean;
  /** Whether tfjs-node-gpu was among the packages tried (the first load asked for a GPU). */
  readonly triedGpu: boolean;
  /** Why each better package was passed over. */
  readonly skipped: readonly string[];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Null when the package loaded (registering its backend), else why not. */
async function importBackend(pkg: string): Promise<string | null> {
  try {
    await import(pkg);
    return null;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || /cannot find (package|module)/i.test(message(err))) && message(err).includes(pkg)) {
      return `${pkg} is not installed`;
    }
    return `${pkg} failed to load: ${message(err)}`;
  }
}

async function initWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // The .wasm files sit beside the package's main file; a path prefix makes TF.js read them
  // from disk rather than fetch them.
  const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.setWasmPaths(dist + sep);
}

async function wasmLabel(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = wasm.getThreadsCount();
  return `WebAssembly (CPU${simd ? ', SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`;
}

async function tryBackends(useGpu: boolean): Promise<ChosenBackend> {
  const skipped: string[] = [];
  for (const c of candidates(useGpu)) {
    let why: string | null;
    if (c === WASM) {
      try {
        await initWasm();
        why = null;
      } catch (err) {
        why = `${c.pkg} failed to load: ${message(err)}`;
      }
    } else {
      why = await importBackend(c.pkg);
    }
    if (why === null) {
      try {
        why = (await tf.setBackend(c.backend)) ? null : `${c.pkg}: backend "${c.backend}" failed to initialize`;
      } catch (err) {
        why = `${c.pkg}: backend "${c.backend}" failed to initialize: ${message(err)}`;
      }
    }
    if (why !== null) {
      skipped.push(why);
      continue;
    }
    await tf.ready();
    if (c === WASM) return { ...c, label: await wasmLabel(), onGpu: false, triedGpu: useGpu, skipped };
    // tfjs-node-gpu quietly runs on CPU when it finds no CUDA device; its backend knows.
    const onGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
    return { ...c, label: `${c.pkg.slice('@tensorflow/'.length)} (${onGpu ? 'CUDA' : 'CPU'})`, onGpu, triedGpu: useGpu, skipped };
  }
  throw new GridlineError('MODEL_LOAD_FAILED', `no TF.js backend could start: ${skipped.join('; ')}`);
}

/**
 * TF.js has one backend per JS thread (its state is module state), so the first model loaded in a
 * thread picks it (its useGpu decides whether tfjs-node-gpu is tried) and every later model in that
 * thread runs on the same one. createThreadedTfjsRuntime gives each model a thread of its own.
 */
let chosen: Promise<ChosenBackend> | null = null;

function chooseBackend(useGpu: boolean): Promise<ChosenBackend> {
  chosen ??= tryBackends(useGpu);
  // A failed choice is not cached: the next load tries again.
  chosen.catch(() => {
    chosen = null;
  });
  return chosen;
}

/** Live TF.js tensors and their bytes in this thread (tests and metrics watch for leaks). */
export function tfjsMemory(): { numTensors: number; numBytes: number } {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}

/** TF.js dtype → ours; TF.js keeps every integer type as int32 and every float as float32. */
const TF_TO_DTYPE: Readonly<Record<string, DType>> = {
  float32: 'float32', int32: 'int32', bool: 'bool',
  DT_FLOAT: 'float32', DT_HALF: 'float32', DT_DOUBLE: 'float32',
  DT_INT32: 'int32', DT_INT64: 'int32', DT_INT8: 'int32', DT_UINT8: 'int32',
  DT_BOOL: 'bool',
};

/** The dtypes a feed may have: the ones TF.js tensors hold without conversion. */
const FEED_DTYPES: ReadonlySet<DType> = new Set(['float32', 'int32', 'bool']);

interface SignatureEntry {
  readonly name?: string;
  readonly dtype?: string;
  readonly tensorShape?: { readonly dim?: readonly { readonly size?: string | number }[]; readonly unknownRank?: boolean };
}

function signatureEntry(section: unknown, key: string): SignatureEntry | undefined {
  if (typeof section !== 'object' || section === null) return undefined;
  const entries = section as Record<string, SignatureEntry>;
  return entries[key] ?? Object.values(entries).find((e) => e.name === key);
}

/** A graph node's declared type, from the model's signature when it has one, else its placeholder. */
function toTensorInfo(key: string, entry: SignatureEntry | undefined, node: tf.ModelTensorInfo | undefined): TensorInfo {
  const tfDtype = entry?.dtype ?? node?.dtype;
  const dtype = tfDtype === undefined ? null : (TF_TO_DTYPE[tfDtype] ?? null);
  let dims: readonly number[] | null = null;
  if (entry?.tensorShape !== undefined) {
    dims = entry.tensorShape.unknownRank === true ? null : (entry.tensorShape.dim ?? []).map((d) => Number(d.size ?? -1));
  } else if (node?.shape !== undefined) {
    dims = node.shape;
  }
  // -1 (and anything else not a size) is a symbolic dimension.
  return { name: key, dtype, shape: dims?.map((d) => (Number.isInteger(d) && d >= 0 ? d : null)) ?? null };
}

function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? '?').join(',')}]`;
}

/** Checks one feed against its input and makes the TF.js tensor; throws INVALID_ARGUMENT naming the input. */
function toTf(model: string, info: TensorInfo, t: Tensor): tf.Tensor {
  const where = `model ${model}: input "${info.name}"`;
  if (!FEED_DTYPES.has(t.dtype)) {
    throw new GridlineError('INVALID_ARGUMENT', `${where} is ${t.dtype}; TF.js takes float32, int32 or bool`);
  }
  if (info.dtype !== null && t.dtype !== info.dtype) {
    throw new GridlineError('INVALID_ARGUMENT', `${where} expects ${info.dtype}, got ${t.dtype} [${t.shape.join(',')}]`);
  }
  if (info.shape !== null && (t.shape.length !== info.shape.length || info.shape.some((d, i) => d !== null && d !== t.shape[i]))) {
    throw new GridlineError('INVALID_ARGUMENT', `${where} expects shape ${formatShape(info.shape)}, got [${t.shape.join(',')}]`);
  }
  return tf.tensor(t.data as Float32Array | Int32Array | Uint8Array, [...t.shape], t.dtype as 'float32' | 'int32' | 'bool');
}

async function fromTf(model: string, name: string, t: tf.Tensor): Promise<Tensor> {
  const dtype = TF_TO_DTYPE[t.dtype];
  if (dtype === undefined) throw new GridlineError('MODEL_ERROR', `model ${model}: output "${name}" has type ${t.dtype}, which gridline tensors cannot hold`);
  // data() hands back a copy (wasm, tfjs-node) or an array no other tensor shares (cpu), so it
  // stays valid after the tensor is disposed.
  const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  return tensor(dtype, t.shape, data);
}

function asArray(out: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(out) ? out : [out];
}

/** Graphs with control flow or dynamic shapes (e.g. NMS) refuse the synchronous execute. */
function needsAsync(err: unknown): boolean {
  return /executeAsync/.test(message(err));
}

function defaultName(path: string): string {
  const file = basename(path);
  return file === 'model.json' ? `${basename(dirname(path))}/${file}` : file;
}

/**
 * Loads a TF.js graph model (model.json + weight shards) from a local path with the best TF.js
 * backend this thread has (tfjs-node-gpu, tfjs-node, else WebAssembly), logging the one used.
 * The one file that loads TF.js. Runs are serialized (one backend, one model state) and every
 * tensor they create is disposed before they resolve. Inference blocks the calling thread: serve
 * through createThreadedTfjsRuntime, which calls this inside a worker thread.
 */
export async function createTfjsRuntime(path: string, options: TfjsRuntimeOptions): Promise<ModelRuntime> {
  const name = options.name ?? defaultName(path);
  const { logger } = options;
  const backend = await chooseBackend(options.useGpu);
  const artifacts = await readTfjsGraphModel(path);
  let model: GraphModel;
  try {
    model = await loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new GridlineError('MODEL_LOAD_FAILED', `model ${name}: TF.js cannot load ${path}: ${message(err)}`, { cause: err, details: { path } });
  }

  const fields = { model: name, runtime: 'tfjs', backend: backend.backend, package: backend.pkg };
  if (options.useGpu && !backend.onGpu) {
    const why = backend.triedGpu
      ? backend.skipped.join('; ') || 'tfjs-node-gpu found no CUDA device'
      : 'TF.js has one backend per thread, chosen by an earlier model that had no GPU';
    logger.warn({ ...fields, reason: why }, `model ${name}: no TF.js GPU backend (${why}), running on ${backend.label}`);
  } else {
    logger.info(fields, `model ${name}: TF.js running on ${backend.label}${options.useGpu ? '' : ' (no GPU assigned)'}`);
  }

  const signature = model.modelSignature as { inputs?: unknown; outputs?: unknown } | undefined;
  const inputNodes = model.inputNodes;
  const outputNodes = model.outputNodes;
  const inputs = Object.freeze(inputNodes.map((key, i) => toTensorInfo(key, signatureEntry(signature?.inputs, key), model.inputs[i])));
  const outputs = Object.freeze(outputNodes.map((key, i) => toTensorInfo(key, signatureEntry(signature?.outputs, key), model.outputs[i])));
  const inputByName = new Map(inputs.map((info) => [info.name, info]));
  let useAsync = false;
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();

  const runOnce = async (feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> => {
    if (closed) throw new GridlineError('MODEL_ERROR', `model ${name} is closed`);
    for (const key of Object.keys(feeds)) {
      if (!inputByName.has(key)) {
        throw new GridlineError('INVALID_ARGUMENT', `model ${name} has no input "${key}" (its inputs: ${inputNodes.join(', ')})`);
      }
    }
    const missing = inputNodes.filter((key) => feeds[key] === undefined);
    if (missing.length > 0) throw new GridlineError('INVALID_ARGUMENT', `model ${name}: missing input ${missing.map((m) => `"${m}"`).join(', ')}`);

    const tfFeeds: tf.NamedTensorMap = {};
    let results: tf.Tensor[] = [];
    try {
      for (const info of inputs) tfFeeds[info.name] = toTf(name, info, feeds[info.name] as Tensor);
      try {
        if (!useAsync) {
          try {
            // tidy frees whatever execute leaves behind except the outputs it returns.
            results = tf.tidy(() => asArray(model.execute(tfFeeds, outputNodes)));
          } catch (err) {
            if (!needsAsync(err)) throw err;
            useAsync = true;
            logger.debug({ model: name }, `model ${name}: graph has dynamic ops, running it with executeAsync`);
          }
        }
        if (useAsync) results = asArray(await model.executeAsync(tfFeeds, outputNodes));
      } catch (err) {
        throw new GridlineError('MODEL_ERROR', `model ${name}: run failed: ${message(err)}`, { cause: err });
      }
      const out: Record<string, Tensor> = {};
      for (const [i, key] of outputNodes.entries()) {
        const t = results[i];
        if (t === undefined) throw new GridlineError('MODEL_ERROR', `model ${name}: output "${key}" missing from the results`);
        out[key] = await fromTf(name, key, t);
      }
      return out;
    } finally {
      tf.dispose(results);
      tf.dispose(Object.values(tfFeeds));
    }
  };

  return {
    inputs,
    outputs,
    run(feeds) {
      const result = tail.then(() => runOnce(feeds));
      tail = result.catch(() => undefined);
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Runs already queued finish first (closed is checked as each starts: those fail).
      await tail;
      model.dispose();
    },
  };
}

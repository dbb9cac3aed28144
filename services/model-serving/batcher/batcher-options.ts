import { GridlineError } from '../../../common/errors.js';
import type { ModelRuntime, TensorInfo } from '../model-runtime.js';

/** Where a tensor's batch dimension is; null: the tensor is not batched. */
export interface TensorBatching {
  readonly batchDim: number | null;
}

/** What a caller configures; compileBatcherOptions fills the defaults and checks the ranges. */
export interface DynamicBatcherOptions {
  /** Most rows one batch may hold: the sum of its requests' batch dimensions. */
  readonly maxBatchSize: number;
  /**
   * How long a request may wait for its batch to fill once the model is free (default 0: run
   * whatever is queued as soon as the model is free, so batches grow only while it is busy).
   */
  readonly maxQueueDelayMs?: number;
  /** Batch sizes worth running at once, without waiting for the delay (default none). */
  readonly preferredBatchSizes?: readonly number[];
  /** Priority levels, 0 the highest (default 2: online requests at 0, pipeline items at 1). */
  readonly priorityLevels?: number;
  /** Priority of a request that names none (default the lowest level). */
  readonly defaultPriority?: number;
  /** Most requests waiting; beyond it submit fails at once with a retryable UNAVAILABLE (default 1024). */
  readonly maxQueueSize?: number;
  /**
   * Deadline of a request that names none, from submit to its result (default 30 s, so that a
   * low-priority request starved by a stream of higher ones fails rather than waits forever).
   */
  readonly defaultTimeoutMs?: number;
  /** Batches run at the same time on the runtime (default 1: the next batch forms meanwhile). */
  readonly maxInflightBatches?: number;
  /**
   * Per input: its batch dimension, or null when it is not batched and so must be equal in every
   * request of a batch (Silero's `sr`). Default: dim 0 where the model declares dim 0 symbolic,
   * else not batched.
   */
  readonly inputs?: Readonly<Record<string, TensorBatching>>;
  /** Per output: the dimension to split results along, or null to give every request all of it (default 0). */
  readonly outputs?: Readonly<Record<string, TensorBatching>>;
  /** Model name for error messages (default "model"). */
  readonly name?: string;
}

/** A model input and the dimension its requests are concatenated along (null: not batched). */
export interface BatchedInput {
  readonly info: TensorInfo;
  readonly batchDim: number | null;
}

/** Complete, checked and frozen options: code past compileBatcherOptions never re-checks them. */
export interface BatcherConfig {
  readonly name: string;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  /** Ascending, without duplicates, each at most maxBatchSize. */
  readonly preferredBatchSizes: readonly number[];
  readonly priorityLevels: number;
  readonly defaultPriority: number;
  readonly maxQueueSize: number;
  readonly defaultTimeoutMs: number;
  readonly maxInflightBatches: number;
  /** Every model input, in the runtime's order. */
  readonly inputs: readonly BatchedInput[];
  /** Outputs configured or declared by the model; any other output splits along dim 0. */
  readonly outputBatchDims: Readonly<Record<string, number | null>>;
}

/** Longest delay setTimeout honours (about 24.8 days); longer ones fire at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

export interface OptionProblem {
  readonly path: string;
  readonly message: string;
}

/** Checks `value` is an integer in [min, max]; records a problem and returns the fallback if not. */
function int(problems: OptionProblem[], path: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push({ path, message: `must be an integer from ${min} to ${max}, got ${String(value)}` });
    return fallback;
  }
  return value;
}

/** A finite number in [min, max]. */
function num(problems: OptionProblem[], path: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    problems.push({ path, message: `must be a number from ${min} to ${max}, got ${String(value)}` });
    return fallback;
  }
  return value;
}

/**
 * Checks a configured batch dimension against what the model declares: a dimension the model
 * fixes (Silero's h is [2, batch, 64], so dim 0 is fixed at 2) cannot be concatenated along.
 */
function checkBatchDim(problems: OptionProblem[], path: string, info: TensorInfo | undefined, dim: number | null): number | null {
  if (dim === null) return null;
  if (!Number.isInteger(dim) || dim < 0) {
    problems.push({ path, message: `must be null or an integer from 0, got ${String(dim)}` });
    return null;
  }
  const shape = info?.shape;
  if (shape === null || shape === undefined) return dim;
  if (dim >= shape.length) {
    problems.push({ path, message: `is ${dim}, but "${info?.name}" has rank ${shape.length}` });
  } else if (shape[dim] !== null) {
    problems.push({ path, message: `dim ${dim} of "${info?.name}" is fixed at ${String(shape[dim])} and cannot be a batch dimension` });
  }
  return dim;
}

function defaultInputBatchDim(info: TensorInfo): number | null {
  return info.shape !== null && info.shape.length > 0 && info.shape[0] === null ? 0 : null;
}

/**
 * Fills the defaults of `options`, checks them against the runtime's signature and freezes the
 * result. Throws INVALID_ARGUMENT listing every problem with its path.
 */
export function compileBatcherOptions(runtime: Pick<ModelRuntime, 'inputs' | 'outputs'>, options: DynamicBatcherOptions): BatcherConfig {
  const problems: OptionProblem[] = [];
  const name = options.name ?? 'model';
  const maxBatchSize = int(problems, 'maxBatchSize', options.maxBatchSize, 1, 1);
  if (options.maxBatchSize === undefined) problems.push({ path: 'maxBatchSize', message: 'is required' });
  const maxQueueDelayMs = num(problems, 'maxQueueDelayMs', options.maxQueueDelayMs, 0, 0, MAX_TIMEOUT_MS);
  const priorityLevels = int(problems, 'priorityLevels', options.priorityLevels, 2, 1, 1000);
  const defaultPriority = int(problems, 'defaultPriority', options.defaultPriority, priorityLevels - 1, 0, priorityLevels - 1);
  const maxQueueSize = int(problems, 'maxQueueSize', options.maxQueueSize, 1024, 1);
  const defaultTimeoutMs = num(problems, 'defaultTimeoutMs', options.defaultTimeoutMs, 30_000, 1, MAX_TIMEOUT_MS);
  const maxInflightBatches = int(problems, 'maxInflightBatches', options.maxInflightBatches, 1, 1);

  const preferred = new Set<number>();
  for (const [i, size] of (options.preferredBatchSizes ?? []).entries()) {
    const checked = int(problems, `preferredBatchSizes[${i}]`, size, 0, 1, maxBatchSize);
    if (checked > 0) preferred.add(checked);
  }

  const byName = new Map(runtime.inputs.map((i) => [i.name, i]));
  for (const key of Object.keys(options.inputs ?? {})) {
    if (!byName.has(key)) problems.push({ path: `inputs.${key}`, message: `the model has no such input (its inputs: ${[...byName.keys()].join(', ')})` });
  }
  const inputs = runtime.inputs.map((info): BatchedInput => {
    const configured = options.inputs?.[info.name];
    const batchDim = configured === undefined
      ? defaultInputBatchDim(info)
      : checkBatchDim(problems, `inputs.${info.name}.batchDim`, info, configured.batchDim);
    return Object.freeze({ info, batchDim });
  });

  const outputInfo = new Map(runtime.outputs.map((o) => [o.name, o]));
  const outputBatchDims: Record<string, number | null> = {};
  for (const [key, value] of Object.entries(options.outputs ?? {})) {
    if (!outputInfo.has(key)) {
      problems.push({ path: `outputs.${key}`, message: `the model has no such output (its outputs: ${[...outputInfo.keys()].join(', ')})` });
    } else {
      outputBatchDims[key] = checkBatchDim(problems, `outputs.${key}.batchDim`, outputInfo.get(key), value.batchDim);
    }
  }
  // Without a batched input every request runs alone and outputs are never split.
  if (inputs.some((i) => i.batchDim !== null)) {
    for (const info of runtime.outputs) {
      if (Object.hasOwn(outputBatchDims, info.name)) continue;
      const declared = info.shape?.[0];
      if (typeof declared === 'number') {
        problems.push({ path: `outputs.${info.name}.batchDim`, message: `dim 0 of "${info.name}" is fixed at ${declared}: say which dimension is the batch one, or null` });
      }
      outputBatchDims[info.name] = 0;
    }
  }

  if (problems.length > 0) {
    const list = problems.map((p) => `${p.path} ${p.message}`).join('; ');
    throw new GridlineError('INVALID_ARGUMENT', `batcher for ${name}: ${list}`, { details: { problems } });
  }
  return Object.freeze({
    name,
    maxBatchSize,
    maxQueueDelayMs,
    preferredBatchSizes: Object.freeze([...preferred].sort((a, b) => a - b)),
    priorityLevels,
    defaultPriority,
    maxQueueSize,
    defaultTimeoutMs,
    maxInflightBatches,
    inputs: Object.freeze(inputs),
    outputBatchDims: Object.freeze(outputBatchDims),
  });
}

import { createHash } from 'node:crypto';
import { GridlineError } from '../../../common/errors.js';
import { elementCount, tensorBytes, type Tensor } from '../../../common/tensor.js';
import type { BatcherConfig } from './batcher-options.js';

/** What the scheduler needs to know about one request. */
export interface RequestLayout {
  /** Its size along the batch dimension; 1 for a model with no batched input. */
  readonly rows: number;
  /**
   * Requests with equal keys can share a batch: equal dtypes, equal shapes but for the batch
   * dimension, equal values of the inputs that are not batched. Null: it can share with none.
   */
  readonly key: string | null;
}

/** Non-batched inputs up to this size are keyed by their bytes; larger ones by a digest. */
const INLINE_BYTES = 64;

function valueKey(t: Tensor): string {
  const bytes = tensorBytes(t);
  return bytes.byteLength <= INLINE_BYTES ? bytes.toString('hex') : createHash('sha256').update(bytes).digest('base64');
}

function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? '?').join(',')}]`;
}

/**
 * Checks a request's feeds against the model's inputs and the batching config, and returns its
 * rows and batch key. Throws INVALID_ARGUMENT naming every problem.
 */
export function describeRequest(config: BatcherConfig, feeds: Readonly<Record<string, Tensor>>): RequestLayout {
  const problems: string[] = [];
  const known = new Set(config.inputs.map((i) => i.info.name));
  for (const name of Object.keys(feeds)) {
    if (!known.has(name)) problems.push(`"${name}" is not an input of the model (its inputs: ${[...known].join(', ')})`);
  }
  let rows: number | null = null;
  let batched = false;
  const parts: string[] = [];
  for (const { info, batchDim } of config.inputs) {
    const t = Object.hasOwn(feeds, info.name) ? feeds[info.name] : undefined;
    if (t === undefined) {
      problems.push(`input "${info.name}" is missing`);
      continue;
    }
    const got = `${t.dtype}${formatShape(t.shape)}`;
    if (t.data.length !== elementCount(t.shape)) {
      problems.push(`input "${info.name}" ${got} holds ${t.data.length} elements`);
      continue;
    }
    if (info.dtype !== null && t.dtype !== info.dtype) {
      problems.push(`input "${info.name}" must be ${info.dtype}, got ${got}`);
      continue;
    }
    if (info.shape !== null) {
      const fits = t.shape.length === info.shape.length && info.shape.every((d, i) => d === null || d === t.shape[i]);
      if (!fits) {
        problems.push(`input "${info.name}" must have shape ${formatShape(info.shape)}, got ${got}`);
        continue;
      }
    }
    if (batchDim === null) {
      parts.push(`${info.name}=${got}:${valueKey(t)}`);
      continue;
    }
    const size = t.shape[batchDim];
    if (size === undefined) {
      problems.push(`input "${info.name}" ${got} has no dim ${batchDim} to batch along`);
      continue;
    }
    if (rows !== null && size !== rows) {
      problems.push(`input "${info.name}" ${got} has ${size} along its batch dim ${batchDim}, other inputs have ${rows}`);
      continue;
    }
    rows = size;
    batched = true;
    parts.push(`${info.name}=${t.dtype}${formatShape(t.shape.map((d, i) => (i === batchDim ? null : d)))}`);
  }
  if (problems.length === 0 && rows !== null && (rows < 1 || rows > config.maxBatchSize)) {
    problems.push(`the request's batch size is ${rows}; it must be from 1 to ${config.maxBatchSize}`);
  }
  if (problems.length > 0) {
    throw new GridlineError('INVALID_ARGUMENT', `${config.name}: ${problems.join('; ')}`, { details: { problems } });
  }
  return batched ? { rows: rows ?? 1, key: parts.join('|') } : { rows: 1, key: null };
}

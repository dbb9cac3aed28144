import { GridlineError, isGridlineError, toGridlineError } from '../../common/errors.js';
import type { Item } from '../../common/item.js';
import type { ModelServingStage } from '../../common/pipeline/types.js';
import { zeros, type Tensor } from '../../common/tensor.js';
import type { Op, OpContext } from '../preprocessing/op.js';
import { closeOps, createOps, runOps } from '../preprocessing/op-registry.js';
import { concatAlong, sliceAlong } from './batcher/batch-tensors.js';
import type { ModelRuntime, TensorInfo } from './model-runtime.js';
import { onnxStringsProblem } from './onnx-strings.js';

/** Runs a model-serving stage over lists of items. */
export interface ModelExecutor {
  /**
   * Preprocesses, batches, runs and postprocesses `items` in place. Returns one slot per item:
   * null when it succeeded, else its error; a bad item never fails the others.
   */
  process(items: readonly Item[]): Promise<(GridlineError | null)[]>;
  /** Closes the stage's ops. The runtime belongs to the caller, who closes it. */
  close(): Promise<void>;
}

/** An item's model inputs, ready to feed. */
interface Feeds {
  readonly index: number;
  readonly tensors: Readonly<Record<string, Tensor>>;
  /**
   * The shared leading (batch) dimension of every input, or null when the inputs have none in
   * common (a scalar, or state tensors batched elsewhere): such an item always runs alone.
   */
  readonly lead: number | null;
  /** Items with equal keys have equal shapes past dim 0 and can be concatenated. */
  readonly key: string;
}

function fieldMap(names: readonly string[], mapping: Readonly<Record<string, string>> | null, single: string, what: string, model: string): Map<string, string> {
  if (mapping === null) return new Map(names.map((n) => [n, names.length === 1 ? single : n]));
  for (const n of Object.keys(mapping)) {
    if (!names.includes(n)) {
      throw new GridlineError('INVALID_PIPELINE', `model ${model} has no ${what} "${n}" (its ${what}s: ${names.join(', ')})`);
    }
  }
  // Inputs the mapping leaves out read the field of their own name; outputs it leaves out are dropped.
  return what === 'input'
    ? new Map(names.map((n) => [n, mapping[n] ?? n]))
    : new Map(Object.entries(mapping));
}

function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? '?').join(',')}]`;
}

/** Checks a feed against the model's declared input; throws INVALID_ITEM naming both. */
function checkInput(item: Item, info: TensorInfo, field: string, t: Tensor): void {
  const where = `item ${item.key}: model input "${info.name}" (field "${field}")`;
  if (info.dtype !== null && t.dtype !== info.dtype) {
    throw new GridlineError('INVALID_ITEM', `${where} expects ${info.dtype}, got ${t.dtype} [${t.shape.join(',')}]`);
  }
  if (t.dtype === 'string') {
    const problem = onnxStringsProblem(t.data);
    if (problem !== null) throw new GridlineError('INVALID_ITEM', `${where}: ${problem}`);
  }
  if (info.shape === null) return;
  const bad = t.shape.length !== info.shape.length || info.shape.some((d, i) =>
    d !== null && d !== t.shape[i] && !(i === 0 && t.shape[0] === 0));
  if (bad) {
    throw new GridlineError('INVALID_ITEM', `${where} expects shape ${formatShape(info.shape)}, got ${t.dtype} [${t.shape.join(',')}]`);
  }
}

function concat(parts: readonly Tensor[]): Tensor {
  return concatAlong(parts, 0);
}

/** Rows [start, start+count) of a tensor along dim 0, as a view (no copy). */
function sliceLead(t: Tensor, start: number, count: number): Tensor {
  return sliceAlong(t, 0, start, count);
}

/**
 * Creates the executor for `stage` over a loaded runtime: preprocess ops, then batches of items
 * whose inputs have equal shapes past the leading dimension (concatenated along dim 0 up to
 * batching.maxBatchSize), the model, outputs split back per item, then postprocess ops.
 */
export async function createModelExecutor(stage: ModelServingStage, runtime: ModelRuntime, ctx: OpContext): Promise<ModelExecutor> {
  const model = stage.model.name;
  const inputFields = fieldMap(runtime.inputs.map((i) => i.name), stage.model.inputs, 'x', 'input', model);
  const outputFields = fieldMap(runtime.outputs.map((o) => o.name), stage.model.outputs, 'y', 'output', model);
  const maxBatch = stage.batching.maxBatchSize;
  // A fixed batch dimension in the model (e.g. 1) rules out concatenating items.
  const fixedBatch = runtime.inputs.some((i) => typeof i.shape?.[0] === 'number');
  // Trailing dims of each output, from metadata or the last run: shapes the [0, ...] outputs of empty items.
  const trailing = new Map<string, number[]>();
  for (const o of runtime.outputs) {
    const rest = o.shape?.slice(1);
    if (rest !== undefined && o.dtype !== null && rest.every((d): d is number => d !== null)) trailing.set(o.name, rest);
  }
  // Set when a model's outputs turn out not to follow its batch dimension: run items alone from then on.
  let splittable = true;

  const pre = await createOps(stage.preprocess, ctx);
  let post: Op[];
  try {
    post = await createOps(stage.postprocess, ctx);
  } catch (err) {
    await closeOps(pre);
    throw err;
  }

  async function gather(item: Item, index: number): Promise<Feeds> {
    const tensors: Record<string, Tensor> = {};
    let lead: number | null | undefined;
    const keyParts: string[] = [];
    for (const info of runtime.inputs) {
      const field = inputFields.get(info.name) ?? info.name;
      if (!item.has(field)) {
        throw new GridlineError('INVALID_ITEM', `item ${item.key}: model input "${info.name}" reads field "${field}", which the item lacks (it has: ${item.fieldNames().join(', ') || 'none'})`);
      }
      const t = await item.tensor(field);
      checkInput(item, info, field, t);
      tensors[info.name] = t;
      const d0 = t.shape.length === 0 ? null : (t.shape[0] ?? null);
      lead = lead === undefined || lead === d0 ? d0 : null;
      keyParts.push(`${t.dtype}[${t.shape.slice(1).join(',')}]`);
    }
    return { index, tensors, lead: lead ?? null, key: keyParts.join('|') };
  }

  function writeOutputs(item: Item, outputs: Readonly<Record<string, Tensor>>): void {
    for (const [name, field] of outputFields) {
      const t = outputs[name];
      if (t === undefined) throw new GridlineError('MODEL_ERROR', `model ${model} returned no output "${name}"`);
      item.setTensor(field, t);
    }
  }

  /** Runs one batch; returns each item's outputs, or null when they cannot be split per item. */
  async function runBatch(batch: readonly Feeds[]): Promise<Record<string, Tensor>[] | null> {
    const feeds: Record<string, Tensor> = {};
    for (const info of runtime.inputs) feeds[info.name] = concat(batch.map((f) => f.tensors[info.name] as Tensor));
    const started = performance.now();
    const results = await runtime.run(feeds);
    ctx.logger.debug({ model, items: batch.length, ms: Math.round(performance.now() - started) }, `model ${model}: ran a batch`);
    const outs = Object.entries(results);
    for (const [name, t] of outs) if (t.shape.length > 0) trailing.set(name, t.shape.slice(1));
    if (batch.length === 1) return [results];
    const total = batch.reduce((s, f) => s + (f.lead ?? 0), 0);
    if (outs.some(([, t]) => t.shape[0] !== total)) return null;
    let offset = 0;
    return batch.map((f) => {
      const lead = f.lead ?? 0;
      const mine: Record<string, Tensor> = {};
      for (const [name, t] of outs) mine[name] = sliceLead(t, offset, lead);
      offset += lead;
      return mine;
    });
  }

  /** Zero-length outputs for an item with nothing to run; outputs of unknown shape are removed. */
  function writeEmpty(item: Item): void {
    for (const [name, field] of outputFields) {
      const rest = trailing.get(name);
      const dtype = runtime.outputs.find((o) => o.name === name)?.dtype;
      if (rest === undefined || dtype === undefined || dtype === null) item.delete(field);
      else item.setTensor(field, zeros(dtype, [0, ...rest]));
    }
  }

  /** Greedy batches in item order per shape key, at most maxBatch rows each. */
  function plan(feeds: readonly Feeds[]): Feeds[][] {
    const batches: Feeds[][] = [];
    const open = new Map<string, { batch: Feeds[]; rows: number }>();
    for (const f of feeds) {
      const rows = f.lead ?? 0;
      if (f.lead === null || fixedBatch || !splittable || rows >= maxBatch) {
        batches.push([f]);
        continue;
      }
      const cur = open.get(f.key);
      if (cur !== undefined && cur.rows + rows <= maxBatch) {
        cur.batch.push(f);
        cur.rows += rows;
      } else {
        const next = { batch: [f], rows };
        batches.push(next.batch);
        open.set(f.key, next);
      }
    }
    return batches;
  }

  return {
    async process(items) {
      const errors: (GridlineError | null)[] = items.map(() => null);
      const fail = (i: number, err: unknown, fallback: 'INTERNAL' | 'MODEL_ERROR' = 'INTERNAL'): void => {
        errors[i] = toGridlineError(err, fallback);
      };

      // Preprocessing is mostly sharp work on libuv threads: run items concurrently.
      await Promise.all(items.map(async (item, i) => {
        try {
          await runOps(pre, item);
        } catch (err) {
          fail(i, err);
        }
      }));

      const feeds: Feeds[] = [];
      for (const [i, item] of items.entries()) {
        if (errors[i] !== null) continue;
        try {
          feeds.push(await gather(item, i));
        } catch (err) {
          fail(i, err);
        }
      }

      const runnable = feeds.filter((f) => f.lead !== 0);
      const queue = plan(runnable);
      while (queue.length > 0) {
        const batch = queue.shift() ?? [];
        try {
          const split = await runBatch(batch);
          if (split === null) {
            splittable = false;
            ctx.logger.warn({ model }, `model ${model}: outputs do not follow the batch dimension; running items one at a time`);
            // Re-plan everything left as single items.
            queue.splice(0, queue.length, ...[...batch, ...queue.flat()].map((f) => [f]));
            continue;
          }
          split.forEach((outputs, j) => {
            const f = batch[j];
            const item = f === undefined ? undefined : items[f.index];
            if (f !== undefined && item !== undefined) writeOutputs(item, outputs);
          });
        } catch (err) {
          // A busy or restarting model (queue full, deadline passed behind online requests, a
          // session that died) is no fault of the items: fail the chunk so it is retried later.
          if (isGridlineError(err) && (err.retryable || err.code === 'UNAVAILABLE' || err.code === 'DEADLINE_EXCEEDED')) throw err;
          for (const f of batch) fail(f.index, err, 'MODEL_ERROR');
        }
      }
      for (const f of feeds) {
        const item = items[f.index];
        if (f.lead === 0 && item !== undefined) writeEmpty(item);
      }

      for (const [i, item] of items.entries()) {
        if (errors[i] !== null) continue;
        try {
          await runOps(post, item);
        } catch (err) {
          fail(i, err);
        }
      }
      return errors;
    },

    async close() {
      await closeOps(post);
      await closeOps(pre);
    },
  };
}

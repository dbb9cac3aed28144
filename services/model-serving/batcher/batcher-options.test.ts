import { describe, expect, it } from 'vitest';
import type { GridlineError } from '../../../common/errors.js';
import { compileBatcherOptions } from './batcher-options.js';

const cls = {
  inputs: [{ name: 'x', dtype: 'float32' as const, shape: [null, 3, null, null] }],
  outputs: [{ name: 'y', dtype: 'float32' as const, shape: [null, 2] }],
};
// Silero VAD v4's signature as onnxruntime reports it (a scalar's shape reads as unknown).
const silero = {
  inputs: [
    { name: 'input', dtype: 'float32' as const, shape: [null, null] },
    { name: 'sr', dtype: 'int64' as const, shape: null },
    { name: 'h', dtype: 'float32' as const, shape: [2, null, 64] },
    { name: 'c', dtype: 'float32' as const, shape: [2, null, 64] },
  ],
  outputs: [
    { name: 'output', dtype: 'float32' as const, shape: [null, 1] },
    { name: 'hn', dtype: 'float32' as const, shape: [2, null, 64] },
    { name: 'cn', dtype: 'float32' as const, shape: [2, null, 64] },
  ],
};

function problems(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect((err as GridlineError).code).toBe('INVALID_ARGUMENT');
    return ((err as GridlineError).details as { problems: { path: string; message: string }[] }).problems;
  }
  throw new Error('expected a throw');
}

describe('compileBatcherOptions', () => {
  it('fills defaults, batches symbolic leading dims, and freezes the result', () => {
    const config = compileBatcherOptions(cls, { maxBatchSize: 8, preferredBatchSizes: [8, 4, 4] });
    expect(config).toEqual({
      name: 'model',
      maxBatchSize: 8,
      maxQueueDelayMs: 0,
      preferredBatchSizes: [4, 8],
      priorityLevels: 2,
      defaultPriority: 1,
      maxQueueSize: 1024,
      defaultTimeoutMs: 30_000,
      maxInflightBatches: 1,
      inputs: [{ info: cls.inputs[0], batchDim: 0 }],
      outputBatchDims: { y: 0 },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.inputs)).toBe(true);
  });

  it('takes per-tensor batch dims for Silero (state batched on dim 1, sr not batched)', () => {
    const config = compileBatcherOptions(silero, {
      maxBatchSize: 16,
      inputs: { h: { batchDim: 1 }, c: { batchDim: 1 } },
      outputs: { hn: { batchDim: 1 }, cn: { batchDim: 1 } },
    });
    expect(config.inputs.map((i) => [i.info.name, i.batchDim])).toEqual([['input', 0], ['sr', null], ['h', 1], ['c', 1]]);
    expect(config.outputBatchDims).toEqual({ output: 0, hn: 1, cn: 1 });
  });

  it('reports every problem with its path', () => {
    const found = problems(() => compileBatcherOptions(silero, {
      maxBatchSize: 0,
      maxQueueDelayMs: -1,
      preferredBatchSizes: [2.5],
      priorityLevels: 0,
      maxQueueSize: Infinity,
      defaultTimeoutMs: 0,
      maxInflightBatches: 1.5,
      inputs: { nope: { batchDim: 0 }, h: { batchDim: 0 } },
      outputs: { hn: { batchDim: 5 } },
    }));
    expect(found.map((p) => p.path)).toEqual([
      'maxBatchSize', 'maxQueueDelayMs', 'priorityLevels', 'maxQueueSize', 'defaultTimeoutMs', 'maxInflightBatches',
      'preferredBatchSizes[0]', 'inputs.nope', 'inputs.h.batchDim', 'outputs.hn.batchDim', 'outputs.cn.batchDim',
    ]);
    expect(found.find((p) => p.path === 'inputs.h.batchDim')?.message).toMatch(/fixed at 2/);
    expect(found.find((p) => p.path === 'outputs.cn.batchDim')?.message).toMatch(/say which dimension/);
  });

  it('needs maxBatchSize, and a preferred size within it', () => {
    const found = problems(() => compileBatcherOptions(cls, { preferredBatchSizes: [9] } as never));
    expect(found.map((p) => p.path)).toEqual(['maxBatchSize', 'preferredBatchSizes[0]']);
  });

  it('does not check output batch dims when no input is batched', () => {
    const fixed = { inputs: [{ name: 'x', dtype: 'float32' as const, shape: [1, 3] }], outputs: [{ name: 'y', dtype: 'float32' as const, shape: [1, 2] }] };
    const config = compileBatcherOptions(fixed, { maxBatchSize: 4 });
    expect(config.inputs[0]?.batchDim).toBeNull();
    expect(config.outputBatchDims).toEqual({});
  });
});

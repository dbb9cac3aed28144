import { describe, expect, it } from 'vitest';
import type { GridlineError } from '../../../common/errors.js';
import { tensor, zeros, type Tensor } from '../../../common/tensor.js';
import { compileBatcherOptions } from './batcher-options.js';
import { describeRequest } from './describe-request.js';

const config = compileBatcherOptions({
  inputs: [
    { name: 'x', dtype: 'float32', shape: [null, null] },
    { name: 'sr', dtype: 'int64', shape: null },
    { name: 'h', dtype: 'float32', shape: [2, null, 3] },
  ],
  outputs: [{ name: 'y', dtype: 'float32', shape: [null, null] }],
}, { maxBatchSize: 4, inputs: { h: { batchDim: 1 } }, name: 'vad' });

const sr = (hz: bigint): Tensor => tensor('int64', [], BigInt64Array.from([hz]));
const feeds = (rows: number, width = 5, hz = 16000n, hRows = rows): Record<string, Tensor> => ({
  x: zeros('float32', [rows, width]),
  sr: sr(hz),
  h: zeros('float32', [2, hRows, 3]),
});

function fail(f: Record<string, Tensor>): string {
  try {
    describeRequest(config, f);
  } catch (err) {
    expect((err as GridlineError).code).toBe('INVALID_ARGUMENT');
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

describe('describeRequest', () => {
  it('counts rows along each input\'s batch dim and keys by trailing shapes and non-batched values', () => {
    const a = describeRequest(config, feeds(2));
    expect(a.rows).toBe(2);
    expect(describeRequest(config, feeds(3)).key).toBe(a.key);
    expect(describeRequest(config, feeds(1, 6)).key).not.toBe(a.key);
    expect(describeRequest(config, feeds(1, 5, 8000n)).key).not.toBe(a.key);
  });

  it('keys large non-batched inputs by digest', () => {
    const big = compileBatcherOptions({
      inputs: [{ name: 'x', dtype: 'float32', shape: [null] }, { name: 'w', dtype: 'float32', shape: [100] }],
      outputs: [],
    }, { maxBatchSize: 4 });
    const w1 = zeros('float32', [100]);
    const w2 = tensor('float32', [100], new Float32Array(100).fill(1));
    const x = zeros('float32', [1]);
    const k1 = describeRequest(big, { x, w: w1 }).key;
    expect(k1).toBe(describeRequest(big, { x, w: zeros('float32', [100]) }).key);
    expect(k1).not.toBe(describeRequest(big, { x, w: w2 }).key);
    expect(k1?.length).toBeLessThan(120);
  });

  it('names every problem', () => {
    expect(fail({ x: zeros('float32', [1, 5]), extra: zeros('float32', [1]) })).toMatch(/"extra" is not an input.*"sr" is missing.*"h" is missing/);
    expect(fail({ ...feeds(1), x: zeros('int32', [1, 5]) })).toMatch(/"x" must be float32, got int32\[1,5\]/);
    expect(fail({ ...feeds(1), h: zeros('float32', [3, 1, 3]) })).toMatch(/"h" must have shape \[2,\?,3\]/);
    expect(fail(feeds(2, 5, 16000n, 1))).toMatch(/"h" float32\[2,1,3\] has 1 along its batch dim 1, other inputs have 2/);
    expect(fail(feeds(5))).toMatch(/batch size is 5; it must be from 1 to 4/);
    expect(fail(feeds(0))).toMatch(/batch size is 0/);
    const lying = { dtype: 'float32', shape: [1, 5], data: new Float32Array(2) } as Tensor;
    expect(fail({ ...feeds(1), x: lying })).toMatch(/holds 2 elements/);
  });

  it('gives a request of a model without batched inputs no key to share', () => {
    const solo = compileBatcherOptions({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }], outputs: [] }, { maxBatchSize: 4 });
    expect(describeRequest(solo, { x: zeros('float32', [1, 2]) })).toEqual({ rows: 1, key: null });
  });
});

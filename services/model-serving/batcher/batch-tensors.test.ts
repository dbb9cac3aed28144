import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../../common/tensor.js';
import { concatAlong, sliceAlong } from './batch-tensors.js';

const f32 = (shape: number[], values: number[]) => tensor('float32', shape, Float32Array.from(values));

describe('concatAlong', () => {
  it('stacks rows along dim 0', () => {
    const out = concatAlong([f32([1, 2], [1, 2]), f32([2, 2], [3, 4, 5, 6])], 0);
    expect(out.shape).toEqual([3, 2]);
    expect([...out.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('interleaves blocks along an inner dim, as Silero state [2, batch, 64] needs', () => {
    // a: [2,1,2], b: [2,2,2]
    const a = f32([2, 1, 2], [1, 2, 3, 4]);
    const b = f32([2, 2, 2], [10, 11, 12, 13, 14, 15, 16, 17]);
    const out = concatAlong([a, b], 1);
    expect(out.shape).toEqual([2, 3, 2]);
    expect([...out.data]).toEqual([1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17]);
  });

  it('returns a lone part as it is, and refuses parts that differ off the dim', () => {
    const a = f32([1, 2], [1, 2]);
    expect(concatAlong([a], 0)).toBe(a);
    expect(() => concatAlong([a, f32([1, 3], [1, 2, 3])], 0)).toThrow(/cannot concat/);
    expect(() => concatAlong([], 0)).toThrow(/no tensors/);
  });

  it('handles int64', () => {
    const a = tensor('int64', [1], BigInt64Array.from([1n]));
    const b = tensor('int64', [2], BigInt64Array.from([2n, 3n]));
    expect([...concatAlong([a, b], 0).data]).toEqual([1n, 2n, 3n]);
  });
});

describe('string tensors', () => {
  const str = (shape: number[], values: string[]) => tensor('string', shape, values.map((v) => Buffer.from(v)));
  const text = (t: { data: readonly unknown[] | ArrayLike<unknown> }) => Array.from(t.data as readonly Uint8Array[], (e) => Buffer.from(e).toString());

  it('concatenate and slice along dim 0 and an inner dim, elements kept', () => {
    const a = str([1, 2], ['a', 'b']);
    const b = str([2, 2], ['', 'ç', 'd', 'e']);
    const rows = concatAlong([a, b], 0);
    expect(rows.dtype).toBe('string');
    expect(text(rows)).toEqual(['a', 'b', '', 'ç', 'd', 'e']);
    expect(text(sliceAlong(rows, 0, 1, 2))).toEqual(['', 'ç', 'd', 'e']);
    const cols = concatAlong([str([2, 1], ['a', 'b']), str([2, 2], ['c', 'd', 'e', 'f'])], 1);
    expect(text(cols)).toEqual(['a', 'c', 'd', 'b', 'e', 'f']);
    expect(text(sliceAlong(cols, 1, 1, 2))).toEqual(['c', 'd', 'e', 'f']);
  });
});

describe('sliceAlong', () => {
  it('views rows along dim 0 without a copy', () => {
    const t = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    const s = sliceAlong(t, 0, 1, 2);
    expect(s.shape).toEqual([2, 2]);
    expect([...s.data]).toEqual([3, 4, 5, 6]);
    expect((s.data as Float32Array).buffer).toBe(t.data.buffer);
  });

  it('copies along an inner dim', () => {
    const t = f32([2, 3, 2], [1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17]);
    const s = sliceAlong(t, 1, 1, 2);
    expect(s.shape).toEqual([2, 2, 2]);
    expect([...s.data]).toEqual([10, 11, 12, 13, 14, 15, 16, 17]);
    expect(() => sliceAlong(t, 1, 2, 2)).toThrow(/cannot take/);
  });

  it('undoes concatAlong for any shapes and dim', () => {
    const arb = fc.record({
      rank: fc.integer({ min: 1, max: 4 }),
      dim: fc.nat(3),
      dims: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }),
      sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
    });
    fc.assert(fc.property(arb, ({ rank, dim: d, dims, sizes }) => {
      const dim = d % rank;
      let next = 0;
      const parts = sizes.map((size) => {
        const shape = dims.slice(0, rank).map((x, i) => (i === dim ? size : x));
        const n = shape.reduce((a, b) => a * b, 1);
        return f32(shape, Array.from({ length: n }, () => next++));
      });
      const whole = concatAlong(parts, dim);
      let offset = 0;
      for (const p of parts) {
        const size = p.shape[dim] ?? 0;
        const back = sliceAlong(whole, dim, offset, size);
        expect(back.shape).toEqual(p.shape);
        expect([...back.data]).toEqual([...p.data]);
        offset += size;
      }
    }));
  });
});

import { GridlineError } from '../../../common/errors.js';
import { elementCount, tensor, zeros, type Tensor, type TensorData } from '../../../common/tensor.js';

// Typed arrays of one dtype share `set` and `subarray`; the casts below only satisfy the union.
type Flat = Float32Array;

/** Copies src[from, from+count) to dst at `at`: one block copy, or element references for strings. */
function copyBlock(dst: TensorData, src: TensorData, from: number, count: number, at: number): void {
  if (Array.isArray(dst)) {
    const d = dst as Uint8Array[];
    const s = src as readonly Uint8Array[];
    for (let i = 0; i < count; i++) d[at + i] = s[from + i]!;
  } else (dst as Flat).set((src as Flat).subarray(from, from + count), at);
}

function shapeWith(shape: readonly number[], dim: number, size: number): number[] {
  return [...shape.slice(0, dim), size, ...shape.slice(dim + 1)];
}

/**
 * Concatenates tensors of one dtype whose shapes differ only along `dim`. Along dim 0 each part
 * is one block copy; along an inner dim (Silero's state is [2, batch, 64]) the parts interleave,
 * one block per index of the dims before `dim`.
 */
export function concatAlong(parts: readonly Tensor[], dim: number): Tensor {
  const first = parts[0];
  if (first === undefined) throw new GridlineError('INTERNAL', 'concat of no tensors');
  if (parts.length === 1) return first;
  const rank = first.shape.length;
  for (const p of parts) {
    const same = p.dtype === first.dtype && p.shape.length === rank && p.shape.every((d, i) => i === dim || d === first.shape[i]);
    if (!same) {
      throw new GridlineError('INTERNAL', `cannot concat ${p.dtype}[${p.shape.join(',')}] with ${first.dtype}[${first.shape.join(',')}] along dim ${dim}`);
    }
  }
  const outer = elementCount(first.shape.slice(0, dim));
  const inner = elementCount(first.shape.slice(dim + 1));
  const total = parts.reduce((s, p) => s + (p.shape[dim] ?? 0), 0);
  const out = zeros(first.dtype, shapeWith(first.shape, dim, total));
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = (p.shape[dim] ?? 0) * inner;
      copyBlock(out.data, p.data, o * block, block, offset);
      offset += block;
    }
  }
  return out;
}

/**
 * Indices [start, start+count) of `t` along `dim`. When nothing precedes `dim` (dim 0, or leading
 * dims of size 1) the slice is a view over the same memory, as the rows are contiguous (for
 * strings, a new array of the same elements); else a copy.
 */
export function sliceAlong(t: Tensor, dim: number, start: number, count: number): Tensor {
  const size = t.shape[dim];
  if (size === undefined || start < 0 || count < 0 || start + count > size) {
    throw new GridlineError('INTERNAL', `cannot take [${start}, ${start + count}) along dim ${dim} of [${t.shape.join(',')}]`);
  }
  const shape = shapeWith(t.shape, dim, count);
  const outer = elementCount(t.shape.slice(0, dim));
  const inner = elementCount(t.shape.slice(dim + 1));
  if (outer === 1) {
    const rows = t.dtype === 'string' ? t.data.slice(start * inner, (start + count) * inner) : t.data.subarray(start * inner, (start + count) * inner);
    return tensor(t.dtype, shape, rows);
  }
  const out = zeros(t.dtype, shape);
  const block = count * inner;
  for (let o = 0; o < outer; o++) copyBlock(out.data, t.data, (o * size + start) * inner, block, o * block);
  return out;
}

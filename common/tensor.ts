import { GridlineError } from './errors.js';

/** Tensor element types, named as onnxruntime names them. */
export type DType =
  | 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16'
  | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** A dense row-major tensor. `data.length` always equals the product of `shape`. */
export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

const CTORS = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array,
} as const;

export const DTYPES: readonly DType[] = Object.keys(CTORS) as DType[];

export function isDType(value: string): value is DType {
  return Object.hasOwn(CTORS, value);
}

export function bytesPerElement(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(dtype: DType, shape: readonly number[], data: TypedArray): Tensor {
  const n = elementCount(shape);
  if (data.length !== n) {
    throw new GridlineError('INVALID_ITEM', `tensor of shape [${shape.join(',')}] needs ${n} elements, got ${data.length}`);
  }
  return Object.freeze({ dtype, shape: Object.freeze([...shape]), data });
}

/** Allocates a zero-filled tensor. */
export function zeros(dtype: DType, shape: readonly number[]): Tensor {
  return tensor(dtype, shape, new CTORS[dtype](elementCount(shape)));
}

/** The tensor's bytes without a copy (a view over the same memory). */
export function tensorBytes(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * Builds a tensor over raw little-endian bytes. Copies only when the bytes are not aligned
 * for the element type (typed arrays require it).
 */
export function tensorFromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const Ctor = CTORS[dtype];
  const size = Ctor.BYTES_PER_ELEMENT;
  const n = elementCount(shape);
  if (bytes.byteLength !== n * size) {
    throw new GridlineError(
      'INVALID_ITEM',
      `${dtype} tensor of shape [${shape.join(',')}] needs ${n * size} bytes, got ${bytes.byteLength}`,
    );
  }
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  return tensor(dtype, shape, new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, n));
}

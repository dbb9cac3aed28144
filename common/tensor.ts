import { GridlineError } from './errors.js';

/**
 * Tensor element types, named as onnxruntime names them. `float16` holds raw IEEE half bits in a
 * Uint16Array (never converted); `string` (OIP BYTES) holds each element's bytes.
 */
export type DType = NumericDType | 'string';

/** The dtypes held in a typed array, a fixed number of bytes per element. */
export type NumericDType =
  | 'float16' | 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16'
  | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/**
 * The elements of a `string` tensor: each one's bytes, as OIP BYTES carries them (not necessarily
 * UTF-8; onnxruntime, which takes JS strings, needs UTF-8, checked where tensors enter it).
 */
export type StringElements = readonly Uint8Array[];

/** A dense row-major tensor. `data.length` always equals the product of `shape`. */
export type Tensor = NumericTensor | StringTensor;

export interface NumericTensor {
  readonly dtype: NumericDType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

export interface StringTensor {
  readonly dtype: 'string';
  readonly shape: readonly number[];
  readonly data: StringElements;
}

export type TensorData = TypedArray | StringElements;

const CTORS = {
  float16: Uint16Array, float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array,
} as const;

export const NUMERIC_DTYPES: readonly NumericDType[] = Object.keys(CTORS) as NumericDType[];

export const DTYPES: readonly DType[] = [...NUMERIC_DTYPES, 'string'];

export function isDType(value: string): value is DType {
  return value === 'string' || Object.hasOwn(CTORS, value);
}

export function bytesPerElement(dtype: NumericDType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(dtype: 'string', shape: readonly number[], data: StringElements): StringTensor;
export function tensor(dtype: NumericDType, shape: readonly number[], data: TypedArray): NumericTensor;
export function tensor(dtype: DType, shape: readonly number[], data: TensorData): Tensor;
export function tensor(dtype: DType, shape: readonly number[], data: TensorData): Tensor {
  const n = elementCount(shape);
  if (data.length !== n) {
    throw new GridlineError('INVALID_ITEM', `tensor of shape [${shape.join(',')}] needs ${n} elements, got ${data.length}`);
  }
  if ((dtype === 'string') !== Array.isArray(data)) {
    throw new GridlineError('INTERNAL', `a ${dtype} tensor cannot hold ${Array.isArray(data) ? 'an array of elements' : 'a typed array'}`);
  }
  return Object.freeze({ dtype, shape: Object.freeze([...shape]), data }) as Tensor;
}

/** Allocates a zero-filled tensor. */
export function zeros(dtype: DType, shape: readonly number[]): Tensor {
  const n = elementCount(shape);
  return tensor(dtype, shape, dtype === 'string' ? new Array<Uint8Array>(n).fill(EMPTY) : new CTORS[dtype](n));
}

const EMPTY = new Uint8Array(0);

/**
 * The tensor's bytes: a view over the same memory, except for `string` tensors, whose elements
 * are written afresh, each as a 4-byte little-endian length then its bytes (OIP's raw BYTES form).
 */
export function tensorBytes(t: Tensor): Buffer {
  if (t.dtype === 'string') return serializeStrings(t.data);
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Length-prefixed elements, in memory of their own (never Buffer's shared pool: it may be transferred). */
export function serializeStrings(elements: StringElements): Buffer {
  let size = 0;
  for (const e of elements) size += 4 + e.byteLength;
  const out = Buffer.from(new ArrayBuffer(size));
  let at = 0;
  for (const e of elements) {
    out.writeUInt32LE(e.byteLength, at);
    out.set(e, at + 4);
    at += 4 + e.byteLength;
  }
  return out;
}

/**
 * Reads `count` length-prefixed elements that fill `bytes` exactly, as views over `bytes`; a
 * string saying what is wrong otherwise (for the caller's error, which knows the field).
 */
export function parseStrings(bytes: Uint8Array, count: number): StringElements | string {
  const elements: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.byteLength) {
    if (elements.length === count) return `holds more than the ${count} elements the shape needs (${bytes.byteLength - at} bytes left over)`;
    if (at + 4 > bytes.byteLength) return `element ${elements.length}: its 4-byte length is cut off after ${bytes.byteLength - at} bytes`;
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.byteLength) {
      return `element ${elements.length}: its length ${length} runs past the end (${bytes.byteLength - at - 4} bytes left)`;
    }
    elements.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (elements.length !== count) return `holds ${elements.length} elements, the shape needs ${count}`;
  return elements;
}

/**
 * Builds a tensor over raw little-endian bytes (length-prefixed elements for `string`, as
 * tensorBytes writes them). Copies only when the bytes are not aligned for the element type
 * (typed arrays require it).
 */
export function tensorFromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  if (dtype === 'string') {
    const elements = parseStrings(bytes, elementCount(shape));
    if (typeof elements === 'string') throw new GridlineError('INVALID_ITEM', `string tensor of shape [${shape.join(',')}]: ${elements}`);
    return tensor(dtype, shape, elements);
  }
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

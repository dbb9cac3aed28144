// Test support for the OIP codec tests: fast-check arbitraries over our tensors and an exact
// comparison. Not used by production code.
import fc from 'fast-check';
import { DTYPES, bytesPerElement, elementCount, tensor, tensorBytes, tensorFromBytes } from '../tensor.js';
import type { DType, Tensor, TensorData } from '../tensor.js';

export { DTYPES };

/** The dtypes whose elements have a JSON and a protobuf `contents` form: all but float16 (raw bytes only). */
export const VALUE_DTYPES: readonly DType[] = DTYPES.filter((d) => d !== 'float16');

const FLOAT32_EDGES = [Number.NaN, Infinity, -Infinity, -0, 0, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38];
const FLOAT64_EDGES = [Number.NaN, Infinity, -Infinity, -0, 0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 2 ** 53, -(2 ** 53)];

function intRange(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max, 0, -1 >= min ? -1 : 1));
}

function bigRange(min: bigint, max: bigint): fc.Arbitrary<bigint> {
  return fc.oneof(fc.bigInt({ min, max }), fc.constantFrom(min, max, 0n, 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n));
}

// Half bits: +-0, +-Infinity, a quiet and a signalling NaN, the largest finite, the smallest subnormal.
const FLOAT16_EDGES = [0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0x7bff, 0x0001];

/** UTF-8 text (JSON can carry it): empty, ASCII, any code point but lone surrogates, NUL included. */
const textArb = fc.oneof(
  fc.constantFrom('', 'a', '\u0000', 'naïve ☃', '日本語', '\u{1F600}', '\uFEFFbom'),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
).map((s) => new Uint8Array(Buffer.from(s, 'utf8')));

/**
 * One element of `dtype`, edge values well represented (NaN, infinities, -0, int extremes; FP16 as
 * raw bits; BYTES as UTF-8 text, which every encoding can carry).
 */
export function elementArb(dtype: DType): fc.Arbitrary<number | bigint | Uint8Array> {
  switch (dtype) {
    case 'string': return textArb;
    case 'float16': return fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(...FLOAT16_EDGES));
    case 'bool': return fc.constantFrom(0, 1);
    case 'int8': return intRange(-128, 127);
    case 'uint8': return intRange(0, 255);
    case 'int16': return intRange(-32768, 32767);
    case 'uint16': return intRange(0, 65535);
    case 'int32': return intRange(-2147483648, 2147483647);
    case 'uint32': return intRange(0, 4294967295);
    case 'int64': return bigRange(-(2n ** 63n), 2n ** 63n - 1n);
    case 'uint64': return bigRange(0n, 2n ** 64n - 1n);
    case 'float32': return fc.oneof(fc.float(), fc.constantFrom(...FLOAT32_EDGES));
    case 'float64': return fc.oneof(fc.double(), fc.constantFrom(...FLOAT64_EDGES));
  }
}

/** Shapes of rank 0 to 3, with an occasional 0 dimension (empty tensors). */
export const shapeArb: fc.Arbitrary<number[]> = fc.array(
  fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) }),
  { maxLength: 3 },
);

function dataOf(dtype: DType, values: readonly (number | bigint | Uint8Array)[]): TensorData {
  if (dtype === 'string') return values as Uint8Array[];
  const data = tensorFromBytes(dtype, [values.length], new Uint8Array(values.length * bytesPerElement(dtype))).data;
  values.forEach((v, i) => { (data as unknown as Record<number, number | bigint | Uint8Array>)[i] = v; });
  return data;
}

export function tensorArb(dtype: DType): fc.Arbitrary<Tensor> {
  return shapeArb.chain((shape) => {
    const n = elementCount(shape);
    return fc.array(elementArb(dtype), { minLength: n, maxLength: n }).map((values) => tensor(dtype, shape, dataOf(dtype, values)));
  });
}

/**
 * Float tensors from random bytes: every bit pattern, NaN payloads and signalling NaNs included;
 * for `string`, elements of random bytes (not UTF-8, for raw encodings only).
 */
export function rawBitsTensorArb(dtype: 'float16' | 'float32' | 'float64' | 'string'): fc.Arbitrary<Tensor> {
  if (dtype === 'string') {
    return shapeArb.chain((shape) => {
      const n = elementCount(shape);
      return fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: n, maxLength: n }).map((elements) => tensor(dtype, shape, elements));
    });
  }
  return shapeArb.chain((shape) => {
    const size = elementCount(shape) * bytesPerElement(dtype);
    return fc.uint8Array({ minLength: size, maxLength: size }).map((bytes) => tensorFromBytes(dtype, shape, bytes));
  });
}

export const anyTensorArb: fc.Arbitrary<Tensor> = fc.constantFrom(...DTYPES).chain(tensorArb);

/** Tensors of VALUE_DTYPES: those every encoding (JSON, protobuf contents) can carry. */
export const anyValueTensorArb: fc.Arbitrary<Tensor> = fc.constantFrom(...VALUE_DTYPES).chain(tensorArb);

/** null when equal: same dtype and shape, and each element the same (Object.is), or the same bytes. */
export function tensorDifference(actual: Tensor, expected: Tensor, bitExact: boolean): string | null {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype} != ${expected.dtype}`;
  if (actual.shape.join(',') !== expected.shape.join(',') || actual.shape.length !== expected.shape.length) {
    return `shape [${actual.shape.join(',')}] != [${expected.shape.join(',')}]`;
  }
  if (actual.data.length !== expected.data.length) return `length ${actual.data.length} != ${expected.data.length}`;
  if (actual.data.constructor !== expected.data.constructor) return `${actual.data.constructor.name} != ${expected.data.constructor.name}`;
  if (bitExact) return tensorBytes(actual).equals(tensorBytes(expected)) ? null : 'bytes differ';
  if (actual.dtype === 'string' || expected.dtype === 'string') {
    for (let i = 0; i < actual.data.length; i++) {
      const a = actual.data[i] as Uint8Array;
      const e = expected.data[i] as Uint8Array;
      if (!Buffer.from(a).equals(Buffer.from(e))) return `element ${i}: ${Buffer.from(a).toString('hex')} != ${Buffer.from(e).toString('hex')}`;
    }
    return null;
  }
  for (let i = 0; i < actual.data.length; i++) {
    if (!Object.is(actual.data[i], expected.data[i])) return `element ${i}: ${String(actual.data[i])} != ${String(expected.data[i])}`;
  }
  return null;
}

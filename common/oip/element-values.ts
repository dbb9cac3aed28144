import type { DType } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { describeReceived } from './oip-errors.js';

/** Reads one value a client sent as a tensor element; undefined when it does not fit the dtype. */
export type ElementReader = (value: unknown) => number | bigint | Uint8Array | undefined;

const INT_RANGES: Readonly<Partial<Record<DType, readonly [number, number]>>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};

const BIG_RANGES: Readonly<Partial<Record<DType, readonly [bigint, bigint]>>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

// JSON numbers cannot be NaN or infinite, so these three strings stand for them (both ways).
const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };

const DECIMAL = /^-?\d{1,20}$/;

/**
 * The reader for one dtype, shared by JSON `data` and protobuf `*_contents`:
 * - BOOL takes true and false only.
 * - 8 to 32-bit integers take integral numbers within the type's range.
 * - INT64 and UINT64 take safe integral numbers (JSON has already rounded anything beyond 2^53,
 *   so such a number is refused rather than read wrong), decimal strings for the full range
 *   (protobuf int64 with `longs: String`) and bigints.
 * - FP32 and FP64 take numbers, and "NaN", "Infinity", "-Infinity"; a finite number too large for
 *   FP32 is refused rather than turned into Infinity.
 * - BYTES takes strings (JSON; their UTF-8 bytes) and bytes (protobuf `bytes_contents`).
 * - FP16 takes nothing: neither JSON nor `contents` has a form for it, only raw bytes.
 */
export function elementReader(dtype: DType): ElementReader {
  if (dtype === 'bool') return (v) => (v === true ? 1 : v === false ? 0 : undefined);
  if (dtype === 'string') return (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v instanceof Uint8Array ? v : undefined);
  if (dtype === 'float16') return () => undefined;
  if (dtype === 'float64') return (v) => (typeof v === 'number' ? v : readNonFinite(v));
  if (dtype === 'float32') {
    return (v) => {
      if (typeof v !== 'number') return readNonFinite(v);
      return Number.isFinite(v) && !Number.isFinite(Math.fround(v)) ? undefined : v;
    };
  }
  const big = BIG_RANGES[dtype];
  if (big !== undefined) {
    const [min, max] = big;
    return (v) => {
      let n: bigint;
      if (typeof v === 'bigint') n = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
      else if (typeof v === 'string' && DECIMAL.test(v)) n = BigInt(v);
      else return undefined;
      return n >= min && n <= max ? n : undefined;
    };
  }
  const [min, max] = INT_RANGES[dtype] ?? [0, -1];
  return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined);
}

function readNonFinite(v: unknown): number | undefined {
  return typeof v === 'string' && Object.hasOwn(NON_FINITE, v) ? NON_FINITE[v] : undefined;
}

/** Why the reader for `dtype` refused `value`, for a message. */
export function elementProblem(dtype: DType, value: unknown): string {
  const datatype = oipDatatypeOf(dtype);
  const got = describeReceived(value);
  if (dtype === 'bool') return `${datatype} takes true or false, got ${got}`;
  if (dtype === 'string') return `${datatype} takes a string, got ${got}`;
  if (dtype === 'float16') return `${datatype} values go as raw bytes only (IEEE half bits), got ${got}`;
  if (dtype === 'float32' || dtype === 'float64') {
    if (typeof value === 'number') return `${got} is out of range for ${datatype}`;
    return `${datatype} takes a number or "NaN", "Infinity", "-Infinity", got ${got}`;
  }
  const big = BIG_RANGES[dtype];
  if (big !== undefined) {
    if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
      return `${got} is beyond 2^53, where JSON numbers lose precision; send ${datatype} values this large as decimal strings or binary data`;
    }
    if (typeof value === 'number' && !Number.isInteger(value)) return `${got} is not an integer (${datatype})`;
    if (typeof value === 'number' || typeof value === 'bigint' || (typeof value === 'string' && DECIMAL.test(value))) {
      return `${got} is out of range for ${datatype} (${big[0]}..${big[1]})`;
    }
    return `${datatype} takes an integer or a decimal string, got ${got}`;
  }
  const [min, max] = INT_RANGES[dtype] ?? [0, -1];
  if (typeof value !== 'number') return `${datatype} takes an integer, got ${got}`;
  if (!Number.isInteger(value)) return `${got} is not an integer (${datatype})`;
  return `${got} is out of range for ${datatype} (${min}..${max})`;
}

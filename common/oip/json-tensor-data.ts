import { zeros } from '../tensor.js';
import type { DType, StringElements, Tensor } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { elementProblem, elementReader } from './element-values.js';
import { describeReceived, invalidField } from './oip-errors.js';
import { elementPath, formatShape } from './tensor-shape.js';

/**
 * Reads a REST `data` array into a tensor. Row-major, either flat or nested exactly as the shape
 * says (every level an array of that dimension's length); nothing in between, so a misplaced
 * bracket is an error rather than a silently reshaped tensor. `count` is the shape's element count,
 * already checked against the request's limit; the tensor is allocated only once the structure
 * has been found to hold that many values, so the allocation never exceeds what the client sent.
 */
export function readJsonData(data: unknown, dtype: DType, shape: readonly number[], count: number, field: string): Tensor {
  if (dtype === 'float16') throw invalidField(field, FP16_AS_JSON);
  if (!Array.isArray(data)) throw invalidField(field, `must be an array, got ${describeReceived(data)}`);
  const nested = shape.length >= 2 && data.length > 0 && Array.isArray(data[0]);
  if (nested) checkNesting(data, shape, 0, [], field);
  else if (data.length !== count) {
    throw invalidField(field, `holds ${data.length} values, ${oipDatatypeOf(dtype)} shape ${formatShape(shape)} needs ${count}`);
  }

  const t = zeros(dtype, shape);
  const out = t.data as unknown as Record<number, number | bigint | Uint8Array>;
  const read = elementReader(dtype);
  let k = 0;
  const put = (value: unknown): void => {
    const element = read(value);
    if (element === undefined) {
      throw invalidField(`${field}${nested ? elementPath(k, shape) : `[${k}]`}`, elementProblem(dtype, value));
    }
    out[k++] = element;
  };
  const last = shape.length - 1;
  const walk = (level: readonly unknown[], depth: number): void => {
    if (depth === last) for (const value of level) put(value);
    else for (const inner of level) walk(inner as unknown[], depth + 1);
  };
  if (nested) walk(data, 0);
  else for (const value of data) put(value);
  return t;
}

function checkNesting(value: unknown, shape: readonly number[], depth: number, at: number[], field: string): void {
  const dim = shape[depth] ?? 0;
  if (!Array.isArray(value) || value.length !== dim) {
    const got = Array.isArray(value) ? `an array of ${value.length}` : describeReceived(value);
    throw invalidField(
      `${field}${at.map((i) => `[${i}]`).join('')}`,
      `nested data must follow shape ${formatShape(shape)}: expected an array of ${dim} at depth ${depth}, got ${got}`,
    );
  }
  if (depth + 1 === shape.length) return;
  for (let i = 0; i < value.length; i++) {
    at.push(i);
    checkNesting(value[i], shape, depth + 1, at, field);
    at.pop();
  }
}

// FP16 has no JSON form in OIP (a JSON number would need converting, and the bits are the point).
const FP16_AS_JSON = 'FP16 data cannot be sent as JSON; send it as binary data (parameters.binary_data_size, ' +
  'with the Inference-Header-Content-Length header)';

/**
 * A tensor's values as a flat JSON array, written by hand because JSON.stringify cannot do three
 * things that keep the round trip exact: -0 is written `-0` (JSON.parse reads it back as -0);
 * NaN and the infinities are written as the strings "NaN", "Infinity" and "-Infinity", which
 * the decoder reads back; INT64/UINT64 values beyond 2^53 are written as decimal strings, since
 * a JSON number that large would be rounded by most clients. FP32 values are written in the
 * shortest form that reads back as the same double, which always reads back as the same float.
 * BYTES elements are written as strings, so they must be UTF-8; FP16 has no JSON form. Either
 * problem is INVALID_ARGUMENT naming `field` and telling the client to ask for binary data.
 */
export function jsonDataText(t: Tensor, field: string): string {
  if (t.dtype === 'float16') {
    throw invalidField(field, 'is FP16, which JSON cannot carry; ask for it as binary data (parameters.binary_data_output, or binary_data in its outputs[] entry)');
  }
  if (t.dtype === 'string') return jsonStringsText(t.data, field);
  const d = t.data;
  const parts = new Array<string>(d.length);
  if (t.dtype === 'bool') for (let i = 0; i < d.length; i++) parts[i] = d[i] === 0 ? 'false' : 'true';
  else if (t.dtype === 'int64' || t.dtype === 'uint64') {
    for (let i = 0; i < d.length; i++) parts[i] = jsonBigIntText(d[i] as bigint);
  } else if (t.dtype === 'float32' || t.dtype === 'float64') {
    for (let i = 0; i < d.length; i++) parts[i] = jsonFloatText(d[i] as number);
  } else for (let i = 0; i < d.length; i++) parts[i] = String(d[i]);
  return `[${parts.join(',')}]`;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function jsonStringsText(elements: StringElements, field: string): string {
  const parts = new Array<string>(elements.length);
  for (let i = 0; i < elements.length; i++) {
    let text: string;
    try {
      text = UTF8.decode(elements[i]);
    } catch {
      throw invalidField(field, `BYTES element ${i} is not valid UTF-8, which JSON cannot carry; ask for it as binary data (parameters.binary_data_output, or binary_data in its outputs[] entry)`);
    }
    parts[i] = JSON.stringify(text);
  }
  return `[${parts.join(',')}]`;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A 64-bit integer as a JSON number while safe, as a decimal string beyond. */
export function jsonBigIntText(v: bigint): string {
  return v >= -MAX_SAFE && v <= MAX_SAFE ? String(v) : `"${v}"`;
}

/** A float as JSON: `-0` kept, NaN and the infinities as strings. */
export function jsonFloatText(v: number): string {
  if (Number.isFinite(v)) return Object.is(v, -0) ? '-0' : String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

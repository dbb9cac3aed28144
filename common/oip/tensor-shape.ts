import { describeReceived, invalidField } from './oip-errors.js';

/** Deeper shapes are refused: no model needs them, and nested JSON data is walked recursively. */
export const MAX_RANK = 64;

/**
 * Reads a tensor shape: an array of non-negative safe integers (-1, a variable dimension, is for
 * model metadata, not for data). `decimalStrings` also takes dimensions as decimal strings, which
 * is how protobuf int64 fields arrive with `longs: String`.
 */
export function readShape(value: unknown, field: string, decimalStrings: boolean): number[] {
  if (!Array.isArray(value)) throw invalidField(field, `must be an array of non-negative integers, got ${describeReceived(value)}`);
  if (value.length > MAX_RANK) throw invalidField(field, `has ${value.length} dimensions, more than ${MAX_RANK}`);
  const shape: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const raw: unknown = value[i];
    const dim = decimalStrings && typeof raw === 'string' && /^-?\d{1,20}$/.test(raw) ? Number(raw) : raw;
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw invalidField(`${field}[${i}]`, `must be a non-negative integer below 2^53, got ${describeReceived(raw)}`);
    }
    shape.push(dim === 0 ? 0 : dim); // -0 (valid JSON) becomes 0
  }
  return shape;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Row-major position of a flat index, `[1][2]`, for messages about one element. */
export function elementPath(index: number, shape: readonly number[]): string {
  let rest = index;
  const parts: string[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d] ?? 1;
    parts.unshift(`[${rest % dim}]`);
    rest = Math.floor(rest / dim);
  }
  return parts.join('');
}

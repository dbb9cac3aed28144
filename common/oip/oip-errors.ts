import { GridlineError } from '../errors.js';

/**
 * Errors for a bad inference request. The message starts with the field path a client sent
 * (`inputs[0].shape`, `raw_input_contents[1]`), so it can be shown as it is; `details.field` holds
 * the same path for programs.
 */
export function invalidField(field: string, problem: string): GridlineError {
  return new GridlineError('INVALID_ARGUMENT', `${field}: ${problem}`, { details: { field } });
}

export function fieldTooLarge(field: string, problem: string): GridlineError {
  return new GridlineError('PAYLOAD_TOO_LARGE', `${field}: ${problem}`, { details: { field } });
}

/** `base.key` for plain keys, `base["odd key"]` otherwise, so paths stay unambiguous. */
export function keyPath(base: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** A short rendering of a received value, in JSON's words; never throws, whatever the value. */
export function describeReceived(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  switch (typeof value) {
    case 'string': return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint': return `${String(value)}n`;
    case 'boolean': return String(value);
    case 'object': return 'an object';
    default: return `a ${typeof value}`;
  }
}

/** A plain object (a JSON object or a protobuf message), not an array, null or a typed array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

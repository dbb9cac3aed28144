import type { InferParameters, InferParameterValue } from './infer-messages.js';
import { jsonBigIntText, jsonFloatText } from './json-tensor-data.js';
import { describeReceived, invalidField, isRecord, keyPath } from './oip-errors.js';

/**
 * Reads a REST `parameters` object, absent meaning none. The protocol allows strings, numbers and
 * booleans as values. The result is a fresh object the caller may take transport keys from.
 */
export function readRestParameters(value: unknown, field: string): Record<string, InferParameterValue> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw invalidField(field, `must be an object, got ${describeReceived(value)}`);
  const entries = Object.entries(value);
  for (const [key, v] of entries) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw invalidField(keyPath(field, key), `must be a string, number or boolean, got ${describeReceived(v)}`);
    }
  }
  // fromEntries defines keys as own data properties: a "__proto__" key stays a plain key.
  return Object.fromEntries(entries) as Record<string, InferParameterValue>;
}

/** Parameters as a JSON object; bigints and non-finite numbers as jsonDataText writes them. */
export function restParametersText(parameters: InferParameters): string {
  const parts = Object.entries(parameters).map(([key, v]) => {
    const text = typeof v === 'bigint' ? jsonBigIntText(v) : typeof v === 'number' ? jsonFloatText(v) : JSON.stringify(v);
    return `${JSON.stringify(key)}:${text}`;
  });
  return `{${parts.join(',')}}`;
}

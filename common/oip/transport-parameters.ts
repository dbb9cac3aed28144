import type { InferParameterValue } from './infer-messages.js';
import { describeReceived, invalidField, keyPath } from './oip-errors.js';

/**
 * Removes a parameter the codec itself consumes (Triton's binary tensor extension:
 * `binary_data_size`, `binary_data`, `binary_data_output`) and returns its value, so the
 * parameters passed on describe the request, not how it travelled.
 */
export function takeParameter(parameters: Record<string, InferParameterValue>, key: string): InferParameterValue | undefined {
  if (!Object.hasOwn(parameters, key)) return undefined;
  const value = parameters[key];
  delete parameters[key];
  return value;
}

/** Reads a consumed boolean parameter; `fallback` when absent. */
export function takeBooleanParameter(
  parameters: Record<string, InferParameterValue>,
  key: string,
  fallback: boolean,
  field: string,
): boolean {
  const value = takeParameter(parameters, key);
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidField(keyPath(field, key), `must be true or false, got ${describeReceived(value)}`);
  return value;
}

/**
 * Triton's shared-memory extension names tensors by region instead of carrying them; we do not
 * support it, and say so rather than report the data as missing.
 */
export function rejectSharedMemory(parameters: Readonly<Record<string, InferParameterValue>>, field: string): void {
  for (const key of Object.keys(parameters)) {
    if (key.startsWith('shared_memory_')) {
      throw invalidField(keyPath(field, key), 'the shared-memory extension is not supported; send the tensor in the request');
    }
  }
}

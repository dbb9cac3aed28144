import { describeReceived, invalidField } from './oip-errors.js';

/**
 * A tensor name: a non-empty string not used before in the same list. `seen` maps each name to the
 * field that first used it, so the message can point at both.
 */
export function readUniqueName(value: unknown, field: string, seen: Map<string, string>): string {
  if (typeof value !== 'string' || value === '') {
    throw invalidField(field, value === undefined || value === '' ? 'required' : `must be a string, got ${describeReceived(value)}`);
  }
  const first = seen.get(value);
  if (first !== undefined) throw invalidField(field, `${JSON.stringify(value)} is also the name of ${first}`);
  seen.set(value, field.replace(/\.name$/, ''));
  return value;
}

import type { z } from 'zod';
import { describeValue } from './describe-value.js';
import { formatIssuePath } from './issue-path.js';
import type { IssuePath } from './issue-path.js';
import { nearestNames } from './nearest-names.js';
import type { RawIssue } from './pipeline-issues.js';

export type ZodCheckResult<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly issues: RawIssue[] };

/**
 * Runs a zod schema and turns its issues into pipeline issues with messages that name what is
 * wrong: the missing field, the unknown field (with the nearest known ones), the expected type.
 * Every issue is collected; zod does not stop at the first.
 */
export function checkWithZod<S extends z.ZodType>(schema: S, value: unknown): ZodCheckResult<z.output<S>> {
  // An unknown-keys issue is split per key below, and the known keys are only visible here.
  const knownKeys = new Map<string, string[]>();
  const result = schema.safeParse(value, {
    reportInput: true,
    error: (iss) => {
      if (iss.code === 'unrecognized_keys' && iss.inst !== undefined && 'shape' in iss.inst) {
        knownKeys.set(formatIssuePath(plainPath(iss.path)), Object.keys(iss.inst.shape as object));
      }
      return messageFor(iss);
    },
  });
  if (result.success) return { ok: true, data: result.data };

  const issues: RawIssue[] = [];
  for (const issue of result.error.issues) {
    const path = plainPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys.get(formatIssuePath(path)) ?? [];
      for (const key of issue.keys) issues.push({ path: [...path, key], message: unknownFieldMessage(key, known), at: 'key' });
    } else if (issue.code === 'custom' && issue.params?.at === 'key') {
      issues.push({ path, message: issue.message, at: 'key' });
    } else {
      issues.push({ path, message: issue.message });
    }
  }
  return { ok: false, issues };
}

/** Document paths never hold symbols; zod's type allows them. */
function plainPath(path: readonly PropertyKey[] | undefined): IssuePath {
  return (path ?? []).filter((s): s is string | number => typeof s !== 'symbol');
}

function unknownFieldMessage(key: string, known: readonly string[]): string {
  const near = nearestNames(key, known);
  if (near.length > 0) return `unknown field \`${key}\` (did you mean ${near.map((n) => `\`${n}\``).join(' or ')}?)`;
  return known.length > 0 ? `unknown field \`${key}\` (known fields: ${known.join(', ')})` : `unknown field \`${key}\``;
}

/** Messages for zod's issue codes; undefined keeps zod's own (or the schema's custom one). */
function messageFor(iss: z.core.$ZodRawIssue): string | undefined {
  const path = plainPath(iss.path);
  const last = path[path.length - 1];
  const input: unknown = iss.input;
  if (iss.code === 'invalid_union' && 'discriminator' in iss && typeof iss.discriminator === 'string') {
    const options = (iss.options as unknown[] | undefined)?.map(String).join(', ') ?? '';
    // Zod reports the discriminator with the whole object as its input.
    const actual: unknown = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[iss.discriminator] : input;
    return actual === undefined
      ? `missing required field \`${iss.discriminator}\` (one of: ${options})`
      : `\`${iss.discriminator}\` must be one of: ${options}; got ${describeValue(actual)}`;
  }
  if (input === undefined && typeof last === 'string' && (iss.code === 'invalid_type' || iss.code === 'invalid_value')) {
    return `missing required field \`${last}\``;
  }
  switch (iss.code) {
    case 'invalid_type':
      // z.int() reports `number`; its schema knows better.
      return `expected ${isIntSchema(iss.inst) ? 'an integer' : typeName(iss.expected)}, got ${describeValue(input)}`;
    case 'invalid_value':
      return `expected ${iss.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describeValue(input)}`;
    case 'too_small':
      return boundMessage('at least', iss.origin, iss.minimum, iss.inclusive, input);
    case 'too_big':
      return boundMessage('at most', iss.origin, iss.maximum, iss.inclusive, input);
    case 'invalid_format':
      return `${describeValue(input)} is not in the expected format${iss.pattern === undefined ? '' : ` (${iss.pattern})`}`;
    default:
      return undefined;
  }
}

function isIntSchema(inst: unknown): boolean {
  return inst !== null && typeof inst === 'object' && 'isInt' in inst && inst.isInt === true;
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    int: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'a map',
    record: 'a map',
    array: 'a list',
  };
  return names[expected] ?? expected;
}

function boundMessage(
  word: 'at least' | 'at most',
  origin: string,
  bound: number | bigint | Date,
  inclusive: boolean | undefined,
  input: unknown,
): string {
  const value = Number(bound);
  if (origin === 'array' || origin === 'set') return `needs ${word} ${value} item${value === 1 ? '' : 's'}`;
  if (origin === 'string') {
    return word === 'at least' && value === 1 ? 'must not be empty' : `needs ${word} ${value} characters`;
  }
  const op = word === 'at least' ? (inclusive === false ? '>' : '>=') : inclusive === false ? '<' : '<=';
  return `must be ${op} ${value}, got ${describeValue(input)}`;
}

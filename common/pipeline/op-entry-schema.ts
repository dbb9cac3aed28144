import { z } from 'zod';
import { OP_DECLARATIONS, findOpDeclaration, opNames } from '../ops/declarations.js';
import { describeValue } from './describe-value.js';
import { nearestNames } from './nearest-names.js';
import type { OpSpec } from './types.js';
import { checkWithZod } from './zod-issues.js';

/**
 * One entry of an op list: `image.decode` or `{ image.resize: { maxSide: 960 } }`. Validated by
 * hand rather than as a zod union so that an unknown op gets a "did you mean" and a bad param an
 * issue at its own path (`...ops[1].image.resize.maxSide`). Params get their declared defaults.
 */
export const opEntrySchema = z.unknown().transform((entry, ctx): OpSpec => {
  const fail = (message: string, path: (string | number)[] = []): never => {
    ctx.issues.push({ code: 'custom', message, input: entry, path });
    return z.NEVER;
  };
  let op: string;
  let params: unknown;
  if (typeof entry === 'string') {
    op = entry;
    params = {};
  } else if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
    const keys = Object.keys(entry);
    if (keys.length !== 1) {
      return fail(
        keys.length === 0
          ? 'empty op: write the op name, or {opName: params}'
          : `an op entry holds exactly one op, got ${keys.join(', ')}: put each op in its own list item`,
      );
    }
    op = keys[0] ?? '';
    // `- image.decode:` (no params) reads as null.
    params = (entry as Record<string, unknown>)[op] ?? {};
  } else {
    return fail(`expected an op name or {opName: params}, got ${describeValue(entry)}`);
  }

  const declaration = findOpDeclaration(op);
  if (declaration === undefined) return fail(unknownOpMessage(op));
  const checked = checkWithZod(declaration.params, params);
  if (!checked.ok) {
    for (const issue of checked.issues) {
      // `params` carries the key/value target through zod to checkWithZod.
      ctx.issues.push({ code: 'custom', message: issue.message, input: entry, path: [op, ...issue.path], params: { at: issue.at } });
    }
    return z.NEVER;
  }
  return { op, params: checked.data as Readonly<Record<string, unknown>> };
});

export function unknownOpMessage(op: string): string {
  const near = nearestNames(op, opNames());
  return near.length > 0
    ? `unknown op \`${op}\` (did you mean ${near.map((n) => `\`${n}\``).join(' or ')}?)`
    : `unknown op \`${op}\` (known ops: ${opNames().join(', ')})`;
}

/**
 * What the JSON Schema says an op entry is: exactly one of the op names, or a single-key map from
 * a declared op to its params. Only for the published schema; validation uses opEntrySchema.
 */
export const opEntryJsonSchema = z
  .xor([
    z.enum(opNames() as [string, ...string[]]).meta({ description: 'An op with default params.' }),
    ...OP_DECLARATIONS.map((d) => z.strictObject({ [d.name]: d.params.nullable() }).meta({ description: d.summary })),
  ])
  .meta({ id: 'Op', description: 'An op: its name, or {opName: params}.' });

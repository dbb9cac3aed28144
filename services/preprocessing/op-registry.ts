import { GridlineError, toGridlineError } from '../../common/errors.js';
import type { Item } from '../../common/item.js';
import { findOpDeclaration } from '../../common/ops/declarations.js';
import type { OpSpec } from '../../common/pipeline/types.js';
import type { Op, OpContext, OpFactory } from './op.js';
import { ctcDecodeOp } from './ops/ctc-decode.js';
import { fieldsDropOp } from './ops/fields-drop.js';
import { imageDecodeOp } from './ops/image-decode.js';
import { imageNormalizeOp } from './ops/image-normalize.js';
import { imageResizeOp } from './ops/image-resize.js';
import { moduleOp } from './ops/module-op.js';
import { ocrBoxesOp } from './ops/ocr-boxes.js';
import { ocrCropOp } from './ops/ocr-crop.js';

// Each factory's params type is checked where the factory is declared; here they are erased.
const FACTORIES: readonly OpFactory<never>[] = [
  imageDecodeOp, imageResizeOp, imageNormalizeOp, ocrBoxesOp, ocrCropOp, ctcDecodeOp, fieldsDropOp, moduleOp,
];

const REGISTRY: ReadonlyMap<string, OpFactory<never>> = new Map(FACTORIES.map((f) => [f.name, f]));

/** Names of the ops this worker implements (a test checks they equal the declared ones). */
export function registeredOpNames(): string[] {
  return [...REGISTRY.keys()];
}

/**
 * Creates the op `spec` names. Params are parsed again with the op's declaration schema, which
 * is idempotent on a validated pipeline and gives the factory its typed, defaulted params.
 */
export async function createOp(spec: OpSpec, ctx: OpContext): Promise<Op> {
  const factory = REGISTRY.get(spec.op);
  const declaration = findOpDeclaration(spec.op);
  if (factory === undefined || declaration === undefined) {
    throw new GridlineError('UNKNOWN_OP', `unknown op "${spec.op}" (known ops: ${registeredOpNames().join(', ')})`, {
      details: { op: spec.op, known: registeredOpNames() },
    });
  }
  const parsed = declaration.params.safeParse(spec.params);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(params)'}: ${i.message}`);
    throw new GridlineError('INVALID_PIPELINE', `op "${spec.op}": invalid params: ${issues.join('; ')}`, {
      details: { op: spec.op, issues },
    });
  }
  return (factory as OpFactory<unknown>).create(parsed.data, ctx);
}

/** Creates every op of a list; on failure closes the ones already created. */
export async function createOps(specs: readonly OpSpec[], ctx: OpContext): Promise<Op[]> {
  const ops: Op[] = [];
  try {
    for (const spec of specs) ops.push(await createOp(spec, ctx));
  } catch (err) {
    await closeOps(ops);
    throw err;
  }
  return ops;
}

/**
 * Applies `ops` to `item` in order. Errors carry the op's name; anything that is not a
 * GridlineError is a bug in the op (INTERNAL).
 */
export async function runOps(ops: readonly Op[], item: Item): Promise<void> {
  for (const op of ops) {
    try {
      await op.apply(item);
    } catch (err) {
      const e = toGridlineError(err);
      throw new GridlineError(e.code, `${op.name}: ${e.message}`, { retryable: e.retryable, details: e.details, cause: err });
    }
  }
}

/** Closes ops that hold resources, in reverse order of creation. */
export async function closeOps(ops: readonly Op[]): Promise<void> {
  for (const op of [...ops].reverse()) await op.close?.();
}

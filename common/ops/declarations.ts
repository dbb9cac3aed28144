import { z } from 'zod';
import type { OpDeclaration } from './op-catalog.js';

/** The op that runs a custom op module. */
export const MODULE_OP = 'module';

const field = z.string().min(1).regex(/^[A-Za-z_][\w.-]*$/, 'a field name: letters, digits, _ . -');

/** Every built-in op. Params are strict: an unknown param is a validation error. */
export const OP_DECLARATIONS = [
  {
    name: 'image.decode',
    summary: 'Decode an encoded image (PNG, JPEG, WebP, ...) into a uint8 [H,W,3] RGB tensor.',
    params: z.strictObject({ from: field.default('file'), to: field.default('image') }),
    io: (p: { from: string; to: string }) => ({ reads: [p.from], writes: [p.to] }),
  },
  {
    name: 'image.resize',
    summary: 'Resize a [H,W,C] uint8 image: fit the longer side into maxSide, or to width/height; round each side to multipleOf.',
    params: z.strictObject({
      from: field.default('image'),
      to: field.optional(),
      maxSide: z.int().positive().max(8192).optional(),
      width: z.int().positive().max(8192).optional(),
      height: z.int().positive().max(8192).optional(),
      multipleOf: z.int().positive().max(1024).default(1),
    }),
    // Without `to` the image is resized in place.
    io: (p: { from: string; to?: string | undefined }) => ({ reads: [p.from], writes: [p.to ?? p.from] }),
  },
  {
    name: 'image.normalize',
    summary: 'Turn a [H,W,C] uint8 image into a float32 [1,C,H,W] tensor: (x*scale - mean) / std per channel.',
    params: z.strictObject({
      from: field.default('image'),
      to: field.default('x'),
      scale: z.number().positive().default(1 / 255),
      mean: z.array(z.number()).min(1).max(4).default([0, 0, 0]),
      std: z.array(z.number().positive()).min(1).max(4).default([1, 1, 1]),
    }),
    io: (p: { from: string; to: string }) => ({ reads: [p.from], writes: [p.to] }),
  },
  {
    name: 'ocr.boxes',
    summary: 'Text boxes from a DB text-probability map [1,1,h,w], scaled to the original image (PP-OCR detection post-processing).',
    params: z.strictObject({
      from: field.default('y'),
      image: field.default('image'),
      threshold: z.number().min(0).max(1).default(0.3),
      boxThreshold: z.number().min(0).max(1).default(0.6),
      unclipRatio: z.number().positive().max(10).default(1.5),
      minSize: z.number().nonnegative().default(3),
      maxBoxes: z.int().positive().max(10000).default(1000),
    }),
    // Boxes go to meta, not to a field.
    io: (p: { from: string; image: string }) => ({ reads: [p.from, p.image], writes: [] }),
  },
  {
    name: 'ocr.crop',
    summary: 'Crop each box from the image, resize to a fixed height, normalize and pad into one float32 [N,3,height,W] batch.',
    params: z.strictObject({
      image: field.default('image'),
      to: field.default('x'),
      height: z.int().positive().max(512).default(48),
      minWidth: z.int().positive().max(8192).default(320),
      maxWidth: z.int().positive().max(8192).default(3200),
      mean: z.number().default(0.5),
      std: z.number().positive().default(0.5),
    }),
    io: (p: { image: string; to: string }) => ({ reads: [p.image], writes: [p.to] }),
  },
  {
    name: 'ctc.decode',
    summary: 'Greedy CTC decode of [N,T,C] class probabilities into text lines with confidences (meta.lines[i].text/confidence).',
    params: z.strictObject({
      from: field.default('y'),
      vocabulary: z.string().min(1),
      blankIndex: z.int().nonnegative().default(0),
      appendSpace: z.boolean().default(true),
    }),
    // Text lines go to meta (`lines`), not to a field.
    io: (p: { from: string }) => ({ reads: [p.from], writes: [] }),
  },
  {
    name: 'fields.drop',
    summary: 'Drop binary fields that later stages do not need, so they stop travelling.',
    params: z.strictObject({ fields: z.array(field).min(1) }),
    // Dropping a field that is already gone is harmless, so nothing is read.
    io: (p: { fields: string[] }) => ({ reads: [], writes: [], deletes: p.fields }),
  },
  {
    name: MODULE_OP,
    summary: 'Run a custom op from a JavaScript module (createOp(params, ctx) → { apply(item), close?() }); workers load it only from their --op-module-dir folders.',
    params: z.strictObject({
      path: z.string().min(1).meta({ description: 'The module file (.mjs or .js), relative to the pipeline file.' }),
      params: z.record(z.string(), z.unknown()).default({}).meta({ description: 'Passed to createOp as they are.' }),
      // Declared so the data-flow check can follow the fields the module reads and writes.
      reads: z.array(field).default([]).meta({ description: 'Item fields the op reads.' }),
      writes: z.array(field).default([]).meta({ description: 'Item fields the op writes.' }),
    }),
    io: (p: { reads: string[]; writes: string[] }) => ({ reads: p.reads, writes: p.writes }),
  },
] as const satisfies readonly OpDeclaration[];

const BY_NAME: ReadonlyMap<string, OpDeclaration> = new Map(OP_DECLARATIONS.map((d) => [d.name, d]));

export function findOpDeclaration(name: string): OpDeclaration | undefined {
  return BY_NAME.get(name);
}

export function opNames(): string[] {
  return [...BY_NAME.keys()];
}

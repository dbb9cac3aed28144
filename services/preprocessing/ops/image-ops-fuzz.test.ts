import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGridlineError } from '../../../common/errors.js';
import { FuzzTally } from '../../../common/fuzz-tally.js';
import { silentLogger } from '../../../common/logger.js';
import { tensor, zeros } from '../../../common/tensor.js';
import type { DType, Tensor } from '../../../common/tensor.js';
import { WorkItem } from '../../items/work-item.js';
import { MAX_IMAGE_PIXELS } from '../image-codec.js';
import type { Op } from '../op.js';
import { createOp } from '../op-registry.js';

// Whatever bytes an item carries, image.decode gives an RGB tensor or fails that item alone with
// INVALID_ITEM naming it; image.resize and image.normalize do the same for tensors of the wrong
// dtype or shape. A header that declares billions of pixels is refused before decoding.
const tally = new FuzzTally('image ops (image.decode, image.resize, image.normalize)');
afterAll(() => tally.print());

const ctx = { logger: silentLogger, resolveUri: (u: string) => u };
let decode: Op;
let resize: Op;
let normalize: Op;
const seeds: { format: string; bytes: Buffer }[] = [];

beforeAll(async () => {
  decode = await createOp({ op: 'image.decode', params: {} }, ctx);
  resize = await createOp({ op: 'image.resize', params: { from: 'image', to: 'out', width: 7, height: 5 } }, ctx);
  normalize = await createOp({ op: 'image.normalize', params: { from: 'image', to: 'x' } }, ctx);
  const pixels = Buffer.from(Array.from({ length: 6 * 4 * 3 }, (_, i) => (i * 37) % 256));
  const base = (): Sharp => sharp(pixels, { raw: { width: 6, height: 4, channels: 3 } });
  seeds.push(
    { format: 'png', bytes: await base().png().toBuffer() },
    { format: 'jpeg', bytes: await base().jpeg().toBuffer() },
    { format: 'webp', bytes: await base().webp().toBuffer() },
    { format: 'gif', bytes: await base().gif().toBuffer() },
    { format: 'tiff', bytes: await base().tiff().toBuffer() },
    { format: 'bw_text.png', bytes: readFileSync(new URL('../../../pipelines/data/bw_text.png', import.meta.url)) },
  );
});

async function run(kind: string, op: Op, item: WorkItem): Promise<string> {
  try {
    await op.apply(item);
    tally.record(kind, 'ok');
    return '';
  } catch (err) {
    tally.record(kind, isGridlineError(err) ? err.code : `untyped ${String(err)}`);
    expect(isGridlineError(err), String(err)).toBe(true);
    if (!isGridlineError(err)) return '';
    expect(err.code).toBe('INVALID_ITEM');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('k.img');
    return err.message;
  }
}

async function decodeBytes(kind: string, bytes: Uint8Array): Promise<string> {
  const item = new WorkItem({ id: '1', key: 'k.img' });
  item.setBytes('file', Buffer.from(bytes));
  const message = await run(kind, decode, item);
  if (message === '') {
    const image = await item.tensor('image');
    expect(image.dtype).toBe('uint8');
    expect(image.shape[2]).toBe(3);
    expect((image.shape[0] ?? 0) * (image.shape[1] ?? 0)).toBeLessThanOrEqual(MAX_IMAGE_PIXELS);
  }
  return message;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed) >>> 0);
  return Buffer.concat([length, typed, crc]);
}

/** A PNG whose IHDR declares width x height (CRC correct), followed by `idat` as its data. */
function pngDeclaring(width: number, height: number, idat: Buffer, colorType = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width >>> 0, 0);
  ihdr.writeUInt32BE(height >>> 0, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The JPEG seed with its SOF0 frame header declaring width x height. */
function jpegDeclaring(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; i++) {
    if (out[i] === 0xff && (out[i + 1] === 0xc0 || out[i + 1] === 0xc2)) {
      out.writeUInt16BE(height & 0xffff, i + 5);
      out.writeUInt16BE(width & 0xffff, i + 7);
      return out;
    }
  }
  throw new Error('no SOF marker in the JPEG seed');
}

const seedIndex = fc.nat();
const seedOf = (i: number): { format: string; bytes: Buffer } => seeds[i % seeds.length]!;

describe('image ops under bad input', () => {
  it('random bytes, empty input, and random bytes after a real signature', async () => {
    const signatures = [Buffer.alloc(0), Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('RIFF\0\0\0\0WEBPVP8 '), Buffer.from('GIF89a'), Buffer.from('II*\0'), Buffer.from('<svg')];
    await fc.assert(fc.asyncProperty(fc.constantFrom(...signatures), fc.uint8Array({ maxLength: 256 }), async (signature, rest) => {
      await decodeBytes('random bytes (with a real signature or none)', Buffer.concat([signature, rest]));
    }), { numRuns: 800 });
    expect(await decodeBytes('zero-size', Buffer.alloc(0))).toMatch(/0 bytes\) is not a decodable image/);
  });

  it('valid PNG/JPEG/WebP/GIF/TIFF truncated, or with a valid header and a garbage body', async () => {
    await fc.assert(fc.asyncProperty(seedIndex, fc.nat(), fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 128 }), async (i, cut, garbage, junk) => {
      const { bytes } = seedOf(i);
      const at = cut % bytes.length;
      await decodeBytes(garbage ? 'valid header, garbage body' : 'truncated', garbage ? Buffer.concat([bytes.subarray(0, at), junk]) : bytes.subarray(0, at));
    }), { numRuns: 800 });
  });

  it('valid images with bytes flipped', async () => {
    await fc.assert(fc.asyncProperty(seedIndex, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), async (i, flips) => {
      const bytes = Buffer.from(seedOf(i).bytes);
      for (const [at, b] of flips) bytes[at % bytes.length] = b;
      await decodeBytes('bytes flipped', bytes);
    }), { numRuns: 600 });
  });

  it('headers declaring gigantic dimensions (decompression bombs) and zero dimensions', async () => {
    const dims = fc.oneof(
      fc.tuple(fc.integer({ min: 8193, max: 2 ** 31 - 1 }), fc.integer({ min: 8193, max: 2 ** 31 - 1 })),
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      fc.constantFrom<[number, number]>([16000, 16000], [65535, 65535], [100000, 100000], [2 ** 31 - 1, 1], [0, 0], [1, 0], [8193, 8192]),
    );
    await fc.assert(fc.asyncProperty(dims, fc.boolean(), fc.uint8Array({ maxLength: 64 }), async ([w, h], jpeg, body) => {
      const bytes = jpeg ? jpegDeclaring(seeds[1]!.bytes, w, h) : pngDeclaring(w, h, deflateSync(Buffer.from(body)));
      const message = await decodeBytes('gigantic or zero declared dimensions', bytes);
      const declared = jpeg ? (w & 0xffff) * (h & 0xffff) : w * h;
      if (declared > MAX_IMAGE_PIXELS) expect(message).not.toBe('');
    }), { numRuns: 400 });
    // A real bomb: 9000x9000 zero pixels deflate to ~80 KB. Refused from its header.
    const row = Buffer.alloc(9001);
    const bomb = pngDeclaring(9000, 9000, deflateSync(Buffer.concat(Array<Buffer>(9000).fill(row)), { level: 9 }));
    expect(bomb.length).toBeLessThan(200_000);
    expect(await decodeBytes('gigantic or zero declared dimensions', bomb)).toMatch(/declares 9000x9000 pixels, more than the limit of 67108864/);
  });

  it('image.resize and image.normalize on tensors of the wrong dtype or shape', async () => {
    const dtype = fc.constantFrom<DType>('uint8', 'uint8', 'float32', 'int8', 'uint16', 'bool', 'string');
    const shape = fc.oneof(
      fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 5 }),
      fc.constantFrom([0, 0, 3], [1, 1, 5], [3, 3, 0], [2, 2], [1, 2, 2, 3], [], [1, 0, 3]),
    );
    await fc.assert(fc.asyncProperty(dtype, shape, fc.boolean(), async (d, s, useResize) => {
      let t: Tensor;
      try {
        t = d === 'string' ? tensor('string', s, Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => new Uint8Array(1))) : zeros(d, s);
      } catch {
        return;
      }
      const item = new WorkItem({ id: '1', key: 'k.img' });
      item.setTensor('image', t);
      const message = await run(useResize ? 'resize: wrong dtype/shape' : 'normalize: wrong dtype/shape', useResize ? resize : normalize, item);
      const valid = d === 'uint8' && s.length === 3 && s[0]! >= 1 && s[1]! >= 1 && s[2]! >= 1 && s[2]! <= 4;
      if (!valid) expect(message).toMatch(/expected a uint8 \[H,W,C\] image/);
    }), { numRuns: 600 });
  });
});

import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { tensor } from '../../../common/tensor.js';
import { WorkItem } from '../../items/work-item.js';
import { createOp } from '../op-registry.js';

const ctx = { logger: silentLogger, resolveUri: (u: string) => u };

/** A 20×40 image: left half black, right half white. */
function halfImage(): WorkItem {
  const h = 20;
  const w = 40;
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = w / 2; x < w; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const item = new WorkItem({ id: '1', key: 'k' });
  item.setTensor('image', tensor('uint8', [h, w, 3], data));
  return item;
}

describe('ocr.crop', () => {
  it('crops, resizes to the height keeping aspect, normalizes and pads with 0', async () => {
    const item = halfImage();
    item.meta['lines'] = [
      { box: [[20, 0], [40, 0], [40, 10], [20, 10]] }, // white, 20×10 → 8×4 at height 4
      { box: [[0, 0], [10, 0], [10, 10], [0, 10]] }, // black, 10×10 → 4×4
    ];
    const op = await createOp({ op: 'ocr.crop', params: { height: 4, minWidth: 6 } }, ctx);
    await op.apply(item);
    const x = await item.tensor('x');
    expect(x.dtype).toBe('float32');
    expect(x.shape).toEqual([2, 3, 4, 8]);
    const at = (n: number, c: number, y: number, xx: number): number => x.data[((n * 3 + c) * 4 + y) * 8 + xx] as number;
    expect(at(0, 0, 0, 0)).toBeCloseTo(1);
    expect(at(0, 2, 3, 7)).toBeCloseTo(1);
    expect(at(1, 1, 2, 3)).toBeCloseTo(-1);
    expect(at(1, 1, 2, 4)).toBe(0); // padding
  });

  it('clamps the width to maxWidth and gives [0,3,height,minWidth] without boxes', async () => {
    const item = halfImage();
    item.meta['lines'] = [{ box: [[0, 0], [40, 0], [40, 2], [0, 2]] }];
    await (await createOp({ op: 'ocr.crop', params: { height: 8, minWidth: 4, maxWidth: 16 } }, ctx)).apply(item);
    expect((await item.tensor('x')).shape).toEqual([1, 3, 8, 16]);
    item.meta['lines'] = [];
    await (await createOp({ op: 'ocr.crop', params: { height: 48, minWidth: 320 } }, ctx)).apply(item);
    expect((await item.tensor('x')).shape).toEqual([0, 3, 48, 320]);
  });

  it('rejects items without boxes', async () => {
    const item = halfImage();
    const op = await createOp({ op: 'ocr.crop', params: {} }, ctx);
    await expect(op.apply(item)).rejects.toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('meta.lines') as unknown });
    item.meta['lines'] = [{ box: 'nope' }];
    await expect(op.apply(item)).rejects.toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('meta.lines[0].box') as unknown });
  });
});

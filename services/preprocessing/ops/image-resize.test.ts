import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { tensor } from '../../../common/tensor.js';
import { WorkItem } from '../../items/work-item.js';
import { createOp } from '../op-registry.js';
import { targetSize } from './image-resize.js';

const ctx = { logger: silentLogger, resolveUri: (u: string) => u };
const base = { from: 'image', multipleOf: 1 };

describe('image.resize targetSize', () => {
  it('fits the longer side into maxSide, only shrinking, then rounds to multipleOf', () => {
    expect(targetSize(516, 333, { ...base, maxSide: 960, multipleOf: 32 })).toEqual({ width: 512, height: 320 });
    expect(targetSize(2000, 1000, { ...base, maxSide: 960 })).toEqual({ width: 960, height: 480 });
    expect(targetSize(2000, 1000, { ...base, maxSide: 960, multipleOf: 32 })).toEqual({ width: 960, height: 480 });
    expect(targetSize(100, 10, { ...base, maxSide: 960, multipleOf: 32 })).toEqual({ width: 96, height: 32 });
  });

  it('takes explicit width/height, keeping the aspect ratio when only one is given', () => {
    expect(targetSize(200, 100, { ...base, width: 50, height: 60 })).toEqual({ width: 50, height: 60 });
    expect(targetSize(200, 100, { ...base, width: 50 })).toEqual({ width: 50, height: 25 });
    expect(targetSize(200, 100, { ...base, height: 50 })).toEqual({ width: 100, height: 50 });
  });
});

describe('image.resize op', () => {
  it('resizes a uint8 [H,W,3] image into `to`', async () => {
    const item = new WorkItem({ id: '1', key: 'k' });
    const src = tensor('uint8', [4, 6, 3], new Uint8Array(72).fill(200));
    item.setTensor('image', src);
    const op = await createOp({ op: 'image.resize', params: { to: 'small', width: 3, height: 2 } }, ctx);
    await op.apply(item);
    const out = await item.tensor('small');
    expect(out.shape).toEqual([2, 3, 3]);
    expect([...out.data].every((v) => v === 200)).toBe(true);
    expect(await item.tensor('image')).toBe(src);
  });

  it('keeps the same tensor when the size does not change', async () => {
    const item = new WorkItem({ id: '1', key: 'k' });
    const src = tensor('uint8', [32, 64, 3], new Uint8Array(32 * 64 * 3));
    item.setTensor('image', src);
    await (await createOp({ op: 'image.resize', params: { maxSide: 960, multipleOf: 32 } }, ctx)).apply(item);
    expect(await item.tensor('image')).toBe(src);
  });

  it('rejects maxSide with width, and non-image fields', async () => {
    await expect(createOp({ op: 'image.resize', params: { maxSide: 10, width: 5 } }, ctx)).rejects.toMatchObject({ code: 'INVALID_PIPELINE' });
    const item = new WorkItem({ id: '1', key: 'doc.png' });
    item.setTensor('image', tensor('float32', [2, 2, 3], new Float32Array(12)));
    const op = await createOp({ op: 'image.resize', params: { width: 1, height: 1 } }, ctx);
    await expect(op.apply(item)).rejects.toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('float32 [2,2,3]') as unknown });
  });
});

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { WorkItem } from '../../items/work-item.js';
import { createOp } from '../op-registry.js';

const ctx = { logger: silentLogger, resolveUri: (u: string) => u };

describe('image.decode', () => {
  it('decodes a PNG into RGB uint8 [H,W,3] and records its size', async () => {
    const raw = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const png = await sharp(raw, { raw: { width: 3, height: 2, channels: 3 } }).png().toBuffer();
    const item = new WorkItem({ id: '1', key: 'a.png' });
    item.setBytes('file', png);
    const op = await createOp({ op: 'image.decode', params: {} }, ctx);
    await op.apply(item);
    const image = await item.tensor('image');
    expect(image.dtype).toBe('uint8');
    expect(image.shape).toEqual([2, 3, 3]);
    expect([...image.data]).toEqual([...raw]);
    expect(item.meta['image']).toEqual({ width: 3, height: 2 });
  });

  it('turns greyscale and alpha images into RGB (transparent → white)', async () => {
    const rgba = Buffer.from([0, 0, 0, 0, 0, 0, 0, 255]);
    const png = await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    const item = new WorkItem({ id: '1', key: 'a.png' });
    item.setBytes('src', png);
    await (await createOp({ op: 'image.decode', params: { from: 'src', to: 'img' } }, ctx)).apply(item);
    const image = await item.tensor('img');
    expect(image.shape).toEqual([1, 2, 3]);
    expect([...image.data]).toEqual([255, 255, 255, 0, 0, 0]);
  });

  it('rejects corrupt bytes with INVALID_ITEM naming the item', async () => {
    const item = new WorkItem({ id: '1', key: 'scans/broken.png' });
    item.setBytes('file', Buffer.from('not an image'));
    const op = await createOp({ op: 'image.decode', params: {} }, ctx);
    const err = await op.apply(item).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ITEM', retryable: false });
    expect((err as Error).message).toContain('scans/broken.png');
  });

  it('refuses SVG (it may reference other files): raster formats only', async () => {
    const item = new WorkItem({ id: '1', key: 'x.svg' });
    item.setBytes('file', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><image href="file:///etc/hostname" width="4" height="4"/></svg>'));
    const err = await (await createOp({ op: 'image.decode', params: {} }, ctx)).apply(item).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ITEM', message: expect.stringMatching(/is svg, not one of png, jpeg/) as string });
  });
});

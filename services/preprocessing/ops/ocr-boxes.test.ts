import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { tensor, zeros } from '../../../common/tensor.js';
import { WorkItem } from '../../items/work-item.js';
import { createOp } from '../op-registry.js';

const ctx = { logger: silentLogger, resolveUri: (u: string) => u };

describe('ocr.boxes', () => {
  it('writes integer boxes in reading order, scaled to the image', async () => {
    const w = 32;
    const h = 16;
    const prob = new Float32Array(w * h);
    const fill = (x0: number, y0: number, x1: number, y1: number): void => {
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) prob[y * w + x] = 0.9;
    };
    fill(2, 10, 20, 13); // second line
    fill(2, 2, 12, 5); // first line, left
    fill(18, 2, 28, 5); // first line, right
    const item = new WorkItem({ id: '1', key: 'k' });
    item.setTensor('y', tensor('float32', [1, 1, h, w], prob));
    item.setTensor('image', zeros('uint8', [48, 96, 3]));
    await (await createOp({ op: 'ocr.boxes', params: {} }, ctx)).apply(item);
    const lines = item.meta['lines'] as { box: number[][] }[];
    expect(lines).toHaveLength(3);
    const tops = lines.map((l) => l.box[0]);
    expect(tops[0]?.[0]).toBeLessThan(tops[1]?.[0] ?? 0);
    expect(tops[2]?.[1]).toBeGreaterThan(tops[0]?.[1] ?? 0);
    for (const { box } of lines) {
      expect(box).toHaveLength(4);
      const [[x1, y1] = [], [x2] = [], [, y2] = []] = [box[0], box[1], box[2]];
      expect(box[3]).toEqual([x1, y2]);
      for (const v of box.flat()) expect(Number.isInteger(v)).toBe(true);
      expect(x1).toBeGreaterThanOrEqual(0);
      expect(x2).toBeLessThanOrEqual(96);
      expect(y1).toBeGreaterThanOrEqual(0);
      expect(y2).toBeLessThanOrEqual(48);
    }
  });

  it('writes no lines for an empty map, and rejects a batch of maps', async () => {
    const item = new WorkItem({ id: '1', key: 'k' });
    item.setTensor('y', zeros('float32', [1, 1, 8, 8]));
    item.setTensor('image', zeros('uint8', [8, 8, 3]));
    const op = await createOp({ op: 'ocr.boxes', params: {} }, ctx);
    await op.apply(item);
    expect(item.meta['lines']).toEqual([]);
    item.setTensor('y', zeros('float32', [2, 1, 8, 8]));
    await expect(op.apply(item)).rejects.toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('[2,1,8,8]') as unknown });
  });
});

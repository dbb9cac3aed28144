import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { tensor } from '../../../common/tensor.js';
import { WorkItem } from '../../items/work-item.js';
import { createOp } from '../op-registry.js';

const ctx = { logger: silentLogger, resolveUri: (u: string) => u };

describe('image.normalize', () => {
  it('turns HWC uint8 into float32 [1,C,H,W] with per-channel mean/std', async () => {
    const item = new WorkItem({ id: '1', key: 'k' });
    // 1×2 image: pixels (0, 51, 255) and (255, 102, 0).
    item.setTensor('image', tensor('uint8', [1, 2, 3], new Uint8Array([0, 51, 255, 255, 102, 0])));
    const op = await createOp({ op: 'image.normalize', params: { mean: [0.5, 0.2, 0], std: [0.5, 0.1, 1] } }, ctx);
    await op.apply(item);
    const x = await item.tensor('x');
    expect(x.dtype).toBe('float32');
    expect(x.shape).toEqual([1, 3, 1, 2]);
    const expected = [-1, 1, 0, 2, 1, 0];
    [...x.data].forEach((v, i) => expect(v).toBeCloseTo(expected[i] ?? NaN, 5));
  });

  it('rejects a mean with the wrong number of channels', async () => {
    const item = new WorkItem({ id: '1', key: 'grey.png' });
    item.setTensor('image', tensor('uint8', [1, 1, 3], new Uint8Array(3)));
    const op = await createOp({ op: 'image.normalize', params: { mean: [0.1, 0.2] } }, ctx);
    await expect(op.apply(item)).rejects.toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('2 values') as unknown });
  });
});

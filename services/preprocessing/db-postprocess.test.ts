import { describe, expect, it } from 'vitest';
import { findTextBoxes, sortReadingOrder, type DbOptions } from './db-postprocess.js';

const OPTS: DbOptions = {
  threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, minSize: 3, maxBoxes: 1000, imageWidth: 64, imageHeight: 32,
};

/** A w×h map with rectangles of probability p (inclusive pixel bounds). */
function map(w: number, h: number, rects: [number, number, number, number, number][]): Float32Array {
  const m = new Float32Array(w * h);
  for (const [x0, y0, x1, y1, p] of rects) {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * w + x] = p;
  }
  return m;
}

describe('findTextBoxes', () => {
  it('unclips a kernel by area·ratio/perimeter and scales it to the image', () => {
    // Kernel x 10..26, y 4..8 on a 32×16 map: w = 16, h = 4 between pixel centres.
    const prob = map(32, 16, [[10, 4, 26, 8, 0.9]]);
    const d = (16 * 4 * 1.5) / (2 * 20); // 2.4
    expect(findTextBoxes(prob, 32, 16, OPTS)).toEqual([{
      x1: Math.round((10 - d) * 2), y1: Math.round((4 - d) * 2), x2: Math.round((26 + d) * 2), y2: Math.round((8 + d) * 2),
    }]);
  });

  it('drops weak, small and sub-threshold regions', () => {
    const prob = map(32, 16, [
      [1, 1, 12, 5, 0.5], // above threshold but mean 0.5 < boxThreshold
      [20, 1, 21, 10, 0.9], // 1 pixel wide between centres < minSize
      [1, 10, 12, 14, 0.2], // below threshold
    ]);
    expect(findTextBoxes(prob, 32, 16, OPTS)).toEqual([]);
  });

  it('clamps to the image and caps the count', () => {
    const prob = map(32, 16, [[0, 0, 31, 5, 0.95], [0, 9, 31, 15, 0.95]]);
    const boxes = findTextBoxes(prob, 32, 16, OPTS);
    expect(boxes).toHaveLength(2);
    for (const b of boxes) {
      expect(b.x1).toBe(0);
      expect(b.x2).toBe(64);
      expect(b.y1).toBeGreaterThanOrEqual(0);
      expect(b.y2).toBeLessThanOrEqual(32);
    }
    expect(findTextBoxes(prob, 32, 16, { ...OPTS, maxBoxes: 1 })).toEqual([boxes[0]]);
  });
});

describe('sortReadingOrder', () => {
  it('orders by rows, left to right within a row', () => {
    const a = { x1: 50, y1: 12, x2: 60, y2: 20 };
    const b = { x1: 5, y1: 15, x2: 40, y2: 22 };
    const c = { x1: 5, y1: 40, x2: 40, y2: 50 };
    expect(sortReadingOrder([c, a, b])).toEqual([b, a, c]);
  });
});

import { describe, expect, it } from 'vitest';
import { connectedComponents } from './connected-components.js';

function maskOf(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const width = rows[0]?.length ?? 0;
  const mask = new Uint8Array(rows.join('').split('').map((c) => (c === '#' ? 1 : 0)));
  return { mask, width, height: rows.length };
}

describe('connectedComponents', () => {
  it('finds 8-connected components with their bounding boxes and areas', () => {
    const { mask, width, height } = maskOf([
      '##....#',
      '.#....#',
      '..#....',
      '.......',
      '...####',
    ]);
    expect(connectedComponents(mask, width, height)).toEqual([
      { minX: 0, minY: 0, maxX: 2, maxY: 2, area: 4 },
      { minX: 6, minY: 0, maxX: 6, maxY: 1, area: 2 },
      { minX: 3, minY: 4, maxX: 6, maxY: 4, area: 4 },
    ]);
  });

  it('handles an all-on mask far larger than the call stack would allow recursively', () => {
    const width = 2000;
    const height = 1500;
    const comps = connectedComponents(new Uint8Array(width * height).fill(1), width, height);
    expect(comps).toEqual([{ minX: 0, minY: 0, maxX: width - 1, maxY: height - 1, area: width * height }]);
  });

  it('returns nothing for an empty mask and rejects a wrong size', () => {
    expect(connectedComponents(new Uint8Array(12), 4, 3)).toEqual([]);
    expect(() => connectedComponents(new Uint8Array(5), 2, 2)).toThrow(RangeError);
  });
});

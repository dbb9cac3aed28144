import { describe, expect, it } from 'vitest';
import { ctcGreedyDecode } from './ctc-decode.js';

const VOCAB = ['a', 'b', 'c'];

/** [T, 4] rows from per-step winners with probability p (classes: blank, a, b, c). */
function steps(winners: number[], p = 0.7): number[] {
  return winners.flatMap((k) => [0, 1, 2, 3].map((c) => (c === k ? p : (1 - p) / 3)));
}

describe('ctcGreedyDecode', () => {
  it('collapses repeats and drops blanks; a blank separates doubled letters', () => {
    const [line] = ctcGreedyDecode(steps([1, 1, 0, 1, 2, 2, 0, 0, 3]), 1, 9, 4, VOCAB);
    expect(line?.text).toBe('aabc');
    expect(line?.confidence).toBeCloseTo(0.7);
  });

  it('averages the max probabilities of the kept steps only', () => {
    const probs = [...steps([1], 0.9), ...steps([1], 0.5), ...steps([0], 0.99), ...steps([2], 0.6)];
    const [line] = ctcGreedyDecode(probs, 1, 4, 4, VOCAB);
    expect(line?.text).toBe('ab');
    expect(line?.confidence).toBeCloseTo((0.9 + 0.6) / 2);
  });

  it('gives empty text with confidence 0 for all-blank lines, per batch row', () => {
    const lines = ctcGreedyDecode([...steps([0, 0]), ...steps([3, 0])], 2, 2, 4, VOCAB);
    expect(lines).toEqual([{ text: '', confidence: 0 }, { text: 'c', confidence: expect.closeTo(0.7) as unknown }]);
  });

  it('supports a blank that is not class 0', () => {
    // classes: a, b, c, blank
    const [line] = ctcGreedyDecode(steps([0, 3, 0, 2]), 1, 4, 4, VOCAB, 3);
    expect(line?.text).toBe('aac');
  });

  it('handles zero lines and rejects a size mismatch', () => {
    expect(ctcGreedyDecode([], 0, 40, 4, VOCAB)).toEqual([]);
    expect(() => ctcGreedyDecode([1, 2, 3], 1, 1, 4, VOCAB)).toThrow(RangeError);
  });
});

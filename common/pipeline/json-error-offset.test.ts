import { describe, expect, it } from 'vitest';
import { jsonErrorOffset } from './json-error-offset.js';

describe('jsonErrorOffset', () => {
  it.each(['{}', '[]', ' {"a": [1, -2.5e3, true, null, "x\\n"], "b": {}} ', '"s"', '0'])('accepts %j', (text) => {
    expect(jsonErrorOffset(text)).toBeNull();
  });

  it.each([
    ['{"a": }', 6],
    ['{"a" 1}', 5],
    ['{a: 1}', 1],
    ['[1, 2,]', 6],
    ['[1 2]', 3],
    ['{"a": 1,}', 8],
    ['{"a": 1} x', 9],
    ['', 0],
    ['{"a": [1}', 8],
    ['{"a": tru}', 6],
  ] as const)('finds the error in %j at %i', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it('copes with deep nesting', () => {
    expect(jsonErrorOffset('['.repeat(100_000))).toBe(100_000);
  });
});

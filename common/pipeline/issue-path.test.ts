import { describe, expect, it } from 'vitest';
import { formatIssuePath } from './issue-path.js';

describe('formatIssuePath', () => {
  it('joins keys with dots and indexes in brackets', () => {
    expect(formatIssuePath(['spec', 'stages', 1, 'ops', 0])).toBe('spec.stages[1].ops[0]');
    expect(formatIssuePath(['spec', 'stages', 0, 'ops', 1, 'image.resize', 'maxSide'])).toBe('spec.stages[0].ops[1].image.resize.maxSide');
    expect(formatIssuePath([])).toBe('');
  });

  it('quotes keys that would be ambiguous', () => {
    expect(formatIssuePath(['metadata', 'labels', 'a b'])).toBe('metadata.labels["a b"]');
  });
});

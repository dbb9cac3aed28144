import { describe, expect, it } from 'vitest';
import { isGridlineError } from './errors.js';
import { formatBytes, parseCpu, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  it('reads binary suffixes as powers of 1024', () => {
    expect(parseQuantity('1Ki')).toBe(1024);
    expect(parseQuantity('512Mi')).toBe(512 * 2 ** 20);
    expect(parseQuantity('2Gi')).toBe(2 * 2 ** 30);
    expect(parseQuantity('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseQuantity('1Ti')).toBe(2 ** 40);
  });

  it('reads decimal suffixes as powers of 1000', () => {
    expect(parseQuantity('1K')).toBe(1000);
    expect(parseQuantity('1k')).toBe(1000);
    expect(parseQuantity('3M')).toBe(3e6);
    expect(parseQuantity('2G')).toBe(2e9);
    expect(parseQuantity('1T')).toBe(1e12);
  });

  it('reads plain numbers and passes numbers through', () => {
    expect(parseQuantity('4')).toBe(4);
    expect(parseQuantity('0.5')).toBe(0.5);
    expect(parseQuantity(' 8 Gi ')).toBe(8 * 2 ** 30);
    expect(parseQuantity(42)).toBe(42);
  });

  it.each(['', 'Gi', '1Xi', '-1Gi', '1 GiB', '1e3', 'abc', '1..5'])('rejects %j with INVALID_ARGUMENT', (text) => {
    let caught: unknown;
    try {
      parseQuantity(text);
    } catch (err) {
      caught = err;
    }
    expect(isGridlineError(caught) && caught.code === 'INVALID_ARGUMENT').toBe(true);
  });

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseQuantity(-1)).toThrow(/invalid quantity/);
    expect(() => parseQuantity(Number.NaN)).toThrow(/invalid quantity/);
  });
});

describe('formatBytes', () => {
  it('picks the largest binary unit', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(100)).toBe('100 B');
    expect(formatBytes(512 * 2 ** 20)).toBe('512 MiB');
    expect(formatBytes(16 * 2 ** 30)).toBe('16 GiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(formatBytes(2 ** 40)).toBe('1 TiB');
  });

  it('keeps a sign for negative values', () => {
    expect(formatBytes(-2 * 2 ** 30)).toBe('-2 GiB');
  });
});

describe('parseCpu', () => {
  it('reads cores and millicores', () => {
    expect(parseCpu(2)).toBe(2);
    expect(parseCpu('0.5')).toBe(0.5);
    expect(parseCpu('500m')).toBe(0.5);
    expect(parseCpu('1500m')).toBe(1.5);
  });

  it.each(['', 'm', '1Gi', '-1', '1 cores', 'abc'])('rejects %j with INVALID_ARGUMENT', (text) => {
    expect(() => parseCpu(text)).toThrow(/invalid cpu/);
  });

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseCpu(-1)).toThrow(/invalid cpu/);
    expect(() => parseCpu(Number.POSITIVE_INFINITY)).toThrow(/invalid cpu/);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, grpcStatusOf, httpStatusOf } from './error-codes.js';
import { GridlineError, toGridlineError } from './errors.js';

describe('error codes', () => {
  const doc = readFileSync(new URL('../docs/ERRORS.md', import.meta.url), 'utf8');

  it.each(Object.keys(ERROR_CODES))('%s is documented in docs/ERRORS.md with its statuses', (code) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `docs/ERRORS.md has no row for ${code}`).toBeDefined();
    const cells = row!.split('|').map((c) => c.trim());
    expect(cells[2]).toBe(String(httpStatusOf(code as keyof typeof ERROR_CODES)));
    expect(cells[3]?.split(' ')[0]).toBe(String(grpcStatusOf(code as keyof typeof ERROR_CODES)));
  });

  it('keeps code, retryable, details and cause', () => {
    const cause = new Error('socket closed');
    const e = new GridlineError('UNAVAILABLE', 'redis down', { retryable: true, details: { host: 'x' }, cause });
    expect(e.toJSON()).toEqual({ code: 'UNAVAILABLE', message: 'redis down', retryable: true, details: { host: 'x' } });
    expect(e.cause).toBe(cause);
  });

  it('wraps foreign errors without losing them', () => {
    const wrapped = toGridlineError(new TypeError('boom'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(toGridlineError('text', 'UNAVAILABLE').retryable).toBe(true);
  });
});

// Test support for the OIP codec tests. Not used by production code.
import { expect } from 'vitest';
import type { ErrorCode } from '../error-codes.js';
import { isGridlineError } from '../errors.js';

/** Asserts `run` throws a GridlineError of `code` whose message starts with `field: `. */
export function expectOipError(run: () => unknown, field: string, pattern?: RegExp, code: ErrorCode = 'INVALID_ARGUMENT'): void {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(isGridlineError(caught), `expected a GridlineError, got ${String(caught)}`).toBe(true);
  if (!isGridlineError(caught)) return;
  expect(caught.code, caught.message).toBe(code);
  expect(caught.message.startsWith(`${field}: `), caught.message).toBe(true);
  if (pattern !== undefined) expect(caught.message).toMatch(pattern);
  expect(caught.details).toEqual({ field });
}

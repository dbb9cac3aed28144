import type { ErrorCode } from './error-codes.js';

export interface GridlineErrorOptions {
  /** Whether repeating the same operation could succeed (network blip vs. bad input). */
  readonly retryable?: boolean;
  /** Structured detail for clients: field paths, per-node reasons, ... (JSON-safe). */
  readonly details?: unknown;
  readonly cause?: unknown;
}

/**
 * The one error type gridline code throws. `code` is stable and documented in
 * docs/ERRORS.md; it is turned into an HTTP or gRPC status only at the edges.
 */
export class GridlineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: GridlineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GridlineError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean; details?: unknown } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isGridlineError(err: unknown): err is GridlineError {
  return err instanceof GridlineError;
}

/** Wraps anything thrown into a GridlineError, keeping the original as `cause`. */
export function toGridlineError(err: unknown, fallback: ErrorCode = 'INTERNAL'): GridlineError {
  if (err instanceof GridlineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GridlineError(fallback, message, { cause: err, retryable: fallback === 'UNAVAILABLE' });
}

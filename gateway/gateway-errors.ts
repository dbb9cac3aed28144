import { status } from '@grpc/grpc-js';
import { grpcStatusOf, httpStatusOf } from '../common/error-codes.js';
import { GridlineError, isGridlineError } from '../common/errors.js';

/**
 * A failure that already has a gRPC status: what a replica answered, passed on as it is.
 * Statuses become HTTP statuses only at the edge (statusForHttp).
 */
export class UpstreamError extends Error {
  constructor(readonly grpcCode: status, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
  }
}

/** Every replica (or the gateway's own per-replica cap) refused the request: 429 / RESOURCE_EXHAUSTED. */
export function overloaded(message: string): GridlineError {
  return new GridlineError('RESOURCE_EXHAUSTED', message, { retryable: true });
}

/** The gRPC status of anything thrown inside the gateway. */
export function grpcCodeOf(err: unknown): status {
  if (err instanceof UpstreamError) return err.grpcCode;
  if (isGridlineError(err)) return grpcStatusOf(err.code) as status;
  if (isServiceError(err)) return err.code;
  return status.INTERNAL;
}

export function messageOf(err: unknown): string {
  if (isServiceError(err)) return err.details !== '' ? err.details : err.message;
  return err instanceof Error ? err.message : String(err);
}

const HTTP_OF_GRPC: Partial<Record<status, number>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.FAILED_PRECONDITION]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.ABORTED]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.UNAUTHENTICATED]: 401,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.UNIMPLEMENTED]: 501,
  [status.UNAVAILABLE]: 503,
  [status.CANCELLED]: 499,
};

/** The HTTP status for anything thrown inside the gateway: gridline codes by their table, gRPC statuses by HTTP's nearest. */
export function httpStatusFor(err: unknown): number {
  if (isGridlineError(err)) return httpStatusOf(err.code);
  if (isMessageTooLarge(err)) return 413;
  return HTTP_OF_GRPC[grpcCodeOf(err)] ?? 500;
}

/** A label for metrics: the gRPC status name in lower case (`ok`, `not_found`, `resource_exhausted`, ...). */
export function outcomeOf(err: unknown): string {
  return (status[grpcCodeOf(err)] ?? 'unknown').toLowerCase();
}

/**
 * grpc-js's own RESOURCE_EXHAUSTED for a message over a channel's size limit: not a full queue, so
 * not a reason to try another replica, and 413 over REST.
 */
export function isMessageTooLarge(err: unknown): boolean {
  return grpcCodeOf(err) === status.RESOURCE_EXHAUSTED && /message larger than max/i.test(messageOf(err));
}

export interface ServiceErrorLike extends Error {
  readonly code: status;
  readonly details: string;
}

export function isServiceError(err: unknown): err is ServiceErrorLike {
  return err instanceof Error && !isGridlineError(err) && typeof (err as { code?: unknown }).code === 'number'
    && typeof (err as { details?: unknown }).details === 'string';
}

export function notFound(message: string): GridlineError {
  return new GridlineError('NOT_FOUND', message);
}

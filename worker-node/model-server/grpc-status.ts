import { Metadata, type ServiceError, type status as GrpcStatus } from '@grpc/grpc-js';
import { grpcStatusOf } from '../../common/error-codes.js';
import { toGridlineError, type GridlineError } from '../../common/errors.js';
import { QUEUE_FULL } from '../../services/model-serving/batcher/dynamic-batcher.js';

/** Whether an error is the batcher's full-queue rejection (retryable, but not by waiting here). */
export function isQueueFull(err: GridlineError): boolean {
  const details = err.details as { reason?: unknown } | undefined;
  return err.code === 'RESOURCE_EXHAUSTED' && details?.reason === QUEUE_FULL;
}

/**
 * The one place the model server turns an error into a gRPC status, as common/error-codes.ts
 * maps codes (a full queue: RESOURCE_EXHAUSTED, so a gateway tries another replica or answers
 * 429 at once). Trailers carry the stable code (`gridline-code`), whether a
 * retry can help (`gridline-retryable`) and, for a bad field, its path (`gridline-field`).
 */
export function toGrpcError(err: unknown): Partial<ServiceError> & { code: GrpcStatus } {
  const error = toGridlineError(err);
  const code = grpcStatusOf(error.code) as GrpcStatus;
  const metadata = new Metadata();
  metadata.set('gridline-code', isQueueFull(error) ? QUEUE_FULL : error.code);
  metadata.set('gridline-retryable', String(error.retryable));
  const field = (error.details as { field?: unknown } | undefined)?.field;
  // Metadata values must be printable ASCII; the message carries the field path in any case.
  if (typeof field === 'string' && /^[\x20-\x7e]{1,256}$/.test(field)) metadata.set('gridline-field', field);
  return { code, details: error.message, message: error.message, metadata };
}

/** The `outcome` label of a request that ended with `err`: its code in lower case, or queue_full. */
export function outcomeOf(err: unknown): string {
  const error = toGridlineError(err);
  return isQueueFull(error) ? 'queue_full' : error.code.toLowerCase();
}

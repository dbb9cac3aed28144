/**
 * Every stable error code, with the HTTP and gRPC status it maps to at the edges.
 * docs/ERRORS.md documents each one; common/error-codes.test.ts fails when one is missing there.
 */
export const ERROR_CODES = {
  INVALID_PIPELINE: { http: 400, grpc: 3, summary: 'The pipeline document is malformed or fails validation; details lists every problem with its path and line.' },
  INVALID_ARGUMENT: { http: 400, grpc: 3, summary: 'A request field or CLI flag has a wrong value.' },
  INVALID_ITEM: { http: 422, grpc: 3, summary: 'An item cannot be processed as it is (corrupt image, wrong tensor shape or type); retrying cannot help.' },
  UNKNOWN_OP: { http: 400, grpc: 3, summary: 'A pipeline names a preprocessing or postprocessing op that is not registered.' },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: 8, summary: 'A request body is larger than the configured limit.' },
  NOT_FOUND: { http: 404, grpc: 5, summary: 'The named run, node, pipeline or model does not exist.' },
  CONFLICT: { http: 409, grpc: 6, summary: 'The request conflicts with the current state (a run that already ended, a node id in use).' },
  UNAUTHENTICATED: { http: 401, grpc: 16, summary: 'An API key, join token or node credential is missing, wrong, revoked or expired.' },
  PERMISSION_DENIED: { http: 403, grpc: 7, summary: 'The credential is valid but may not do this: an API key without the scope, a revoked node, a path outside the allowed directories.' },
  UNSCHEDULABLE: { http: 409, grpc: 9, summary: 'No registered node can satisfy a stage replica\'s resources; details say which resource is short on which nodes.' },
  MODEL_LOAD_FAILED: { http: 500, grpc: 13, summary: 'A model file could not be found or loaded by its runtime.' },
  MODEL_ERROR: { http: 500, grpc: 13, summary: 'The runtime failed while running a model.' },
  RESOURCE_EXHAUSTED: { http: 429, grpc: 8, summary: 'A bounded queue is full (a served model\'s batcher on every replica): refused at once rather than queued; retry with backoff.' },
  UNAVAILABLE: { http: 503, grpc: 14, summary: 'A dependency (Redis, the coordinator, a node) cannot be reached; retrying may help.' },
  DEADLINE_EXCEEDED: { http: 504, grpc: 4, summary: 'An operation did not finish within its deadline.' },
  CANCELLED: { http: 409, grpc: 1, summary: 'The run or operation was cancelled.' },
  INTERNAL: { http: 500, grpc: 13, summary: 'An unexpected failure inside gridline: a bug to report.' },
} as const satisfies Record<string, { http: number; grpc: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].http;
}

export function grpcStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].grpc;
}

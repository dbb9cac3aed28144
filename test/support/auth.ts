import * as grpc from '@grpc/grpc-js';

/**
 * The credential integration tests use. Every coordinator a test starts takes it as its static
 * admin key (`adminKey` in-process, GRIDLINE_ADMIN_KEY for processes), and every CLI process a
 * test runs presents it (GRIDLINE_API_KEY): see startProcess. Tests of auth itself make their
 * own keys with narrower scopes.
 */
export const TEST_ADMIN_KEY = 'gridline-test-admin-key-0123456789abcdef';

/** The secret sealing credentials in Redis for coordinator processes tests start (GRIDLINE_COORDINATOR_SECRET). */
export const TEST_COORDINATOR_SECRET = 'gridline-test-coordinator-secret-0123456789abcdef';

/** `Authorization` header for fetch calls against a test coordinator or gateway. */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...extra };
}

/** fetch that presents the test admin key unless the call sets its own authorization. */
export function authedFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${TEST_ADMIN_KEY}`);
  return fetch(input, { ...init, headers });
}

/** A grpc-js client interceptor that adds `authorization: Bearer <key>` to every call. */
export function bearerInterceptor(key: string = TEST_ADMIN_KEY): grpc.Interceptor {
  return (options, next) => new grpc.InterceptingCall(next(options), {
    start(metadata, listener, nextStart) {
      metadata.set('authorization', `Bearer ${key}`);
      nextStart(metadata, listener);
    },
  });
}

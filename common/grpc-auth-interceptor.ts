import * as grpc from '@grpc/grpc-js';
import { grpcStatusOf } from './error-codes.js';
import { isGridlineError } from './errors.js';

/** Throws (a GridlineError) to refuse a call; `method` is the last part of the path (`ModelInfer`). */
export type CallCheck = (method: string, authorization: string | undefined) => void;

/**
 * A grpc-js server interceptor that checks each call's `authorization` metadata as it arrives,
 * before the request message is read: a caller without a credential costs no buffering or
 * decoding of a message that may be 64 MiB. The servers that use it check nowhere else.
 */
export function authInterceptor(check: CallCheck): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const method = descriptor.path.slice(descriptor.path.lastIndexOf('/') + 1);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const header = metadata.get('authorization')[0];
        try {
          check(method, typeof header === 'string' ? header : undefined);
        } catch (err) {
          const code = isGridlineError(err) ? grpcStatusOf(err.code) : grpc.status.UNAUTHENTICATED;
          call.sendStatus({ code, details: (err as Error).message });
          return;
        }
        next(metadata);
      })
      .build();
    const responder = new grpc.ResponderBuilder().withStart((next) => next(listener)).build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}

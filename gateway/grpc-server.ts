import * as grpc from '@grpc/grpc-js';
import type { ModelMetadataRequest__Output } from '../proto/generated/inference/ModelMetadataRequest.js';
import type { ModelMetadataResponse } from '../proto/generated/inference/ModelMetadataResponse.js';
import type { ModelReadyRequest__Output } from '../proto/generated/inference/ModelReadyRequest.js';
import type { ModelReadyResponse } from '../proto/generated/inference/ModelReadyResponse.js';
import { authInterceptor } from '../common/grpc-auth-interceptor.js';
import { grpcCodeOf, messageOf } from './gateway-errors.js';
import type { BearerCheck } from './rest-server.js';
import type { GatewayService } from './gateway-service.js';
import { rawInferenceService, readModelRef } from './infer-wire.js';

/** Health and server metadata, open for probes like their REST twins. */
const OPEN_METHODS: ReadonlySet<string> = new Set(['ServerLive', 'ServerReady', 'ServerMetadata']);

export interface GrpcServerOptions {
  /** Largest request message a client may send (default 64 MiB; beyond: RESOURCE_EXHAUSTED). Responses are not limited. */
  readonly maxMessageBytes?: number;
  /** Checks the `authorization` metadata: `infer` scope for model calls; health and server metadata are open. */
  readonly access: BearerCheck;
}

/**
 * The gateway's inference.GRPCInferenceService: health and server metadata answered here; model
 * metadata, model ready and infer forwarded through the load balancer. ModelInfer travels as
 * serialized bytes: only model_name and model_version are read, and the replica's answer (or its
 * status) goes back as it came. Not bound: the caller binds it.
 */
export function createGrpcServer(service: GatewayService, options: GrpcServerOptions): grpc.Server {
  const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': -1,
    // The one gate for API keys: checked as metadata arrives, before a message is read.
    interceptors: [authInterceptor((method, authorization) => {
      if (!OPEN_METHODS.has(method)) options.access.verify(authorization, 'infer');
    })],
  });
  const handlers: grpc.UntypedServiceImplementation = {
    ServerLive: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      callback(null, { live: service.isLive() });
    },
    ServerReady: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      callback(null, { ready: service.isReady() });
    },
    ServerMetadata: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const { name, version, extensions } = service.serverMetadata;
      callback(null, { name, version, extensions: [...extensions] });
    },
    ModelMetadata: (call: grpc.ServerUnaryCall<ModelMetadataRequest__Output, ModelMetadataResponse>, callback: grpc.sendUnaryData<ModelMetadataResponse>) => {
      const { name, version } = call.request;
      service.modelMetadata(name, version, deadlineOf(service, call), signalOf(call)).then(
        (m) => callback(null, {
          name: m.name, versions: [...m.versions], platform: m.platform,
          inputs: m.inputs.map((t) => ({ ...t, shape: [...t.shape] })),
          outputs: m.outputs.map((t) => ({ ...t, shape: [...t.shape] })),
        }),
        (err: unknown) => callback(toStatus(err)),
      );
    },
    ModelReady: (call: grpc.ServerUnaryCall<ModelReadyRequest__Output, ModelReadyResponse>, callback: grpc.sendUnaryData<ModelReadyResponse>) => {
      const { name, version } = call.request;
      service.modelReady(name, version, deadlineOf(service, call), signalOf(call)).then(
        (ready) => callback(null, { ready }),
        (err: unknown) => callback(toStatus(err)),
      );
    },
    ModelInfer: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      let model = '';
      let version = '';
      try {
        ({ modelName: model, modelVersion: version } = readModelRef(call.request));
      } catch (err) {
        callback(toStatus(err));
        return;
      }
      service.observe('grpc', model, () => service.infer(model, version, call.request, deadlineOf(service, call), signalOf(call))).then(
        (answer) => callback(null, answer),
        (err: unknown) => callback(toStatus(err)),
      );
    },
  };
  server.addService(rawInferenceService(), handlers);
  return server;
}

function toStatus(err: unknown): Partial<grpc.StatusObject> {
  return { code: grpcCodeOf(err), details: messageOf(err) };
}

function deadlineOf(service: GatewayService, call: grpc.ServerUnaryCall<unknown, unknown>): number {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return service.deadlineFor(Number.isFinite(at) ? at - service.now() : undefined);
}

function signalOf(call: grpc.ServerUnaryCall<unknown, unknown>): AbortSignal {
  const controller = new AbortController();
  call.once('cancelled', () => controller.abort());
  return controller.signal;
}

/** Binds `server` on host:port (0: any free port) with `credentials`; the port it got. */
export function bindGrpcServer(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(target, credentials, (err, bound) => {
      if (err !== null) reject(err);
      else resolve(bound);
    });
  });
}

import * as grpc from '@grpc/grpc-js';
import { grpcChannelCredentials } from '../common/tls/grpc-credentials.js';
import type { TlsClientMaterial } from '../common/tls/tls-material.js';
import type { ModelMetadataRequest } from '../proto/generated/inference/ModelMetadataRequest.js';
import type { ModelMetadataResponse__Output } from '../proto/generated/inference/ModelMetadataResponse.js';
import type { ModelReadyRequest } from '../proto/generated/inference/ModelReadyRequest.js';
import type { ModelReadyResponse__Output } from '../proto/generated/inference/ModelReadyResponse.js';
import { rawInferenceService } from './infer-wire.js';
import type { RoutingTableView } from './routing-table.js';

/** What one call to a replica takes besides its message. */
export interface ReplicaCallOptions {
  /** Absolute deadline (ms since the epoch). */
  readonly deadline: number;
  /** Aborting cancels the call (the client went away). */
  readonly signal?: AbortSignal;
}

/** The calls the gateway makes on a replica's inference.GRPCInferenceService. */
export interface ReplicaClient {
  /** ModelInfer with the request and response as serialized messages. */
  modelInfer(request: Buffer, options: ReplicaCallOptions): Promise<Buffer>;
  modelMetadata(request: ModelMetadataRequest, options: ReplicaCallOptions): Promise<ModelMetadataResponse__Output>;
  modelReady(request: ModelReadyRequest, options: ReplicaCallOptions): Promise<ModelReadyResponse__Output>;
}

export interface ReplicaClientPoolOptions {
  /** Largest message sent to or received from a replica (default: no limit; the front doors limit what clients send). */
  readonly maxMessageBytes?: number;
  /** Extra channel options (tests shorten reconnect backoff). */
  readonly channelOptions?: grpc.ChannelOptions;
  /** TLS to replicas, showing the gateway's certificate (model servers demand one); null or absent: plaintext. */
  readonly tls?: TlsClientMaterial | null;
  /** The `authorization` metadata every call carries (the cluster's service token), read per call so a new one applies at once. */
  readonly authorization?: () => string | null;
}

type Unary = (
  request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, value?: unknown) => void,
) => grpc.ClientUnaryCall;

const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // A replica that restarts is found again within a second, not after grpc's 2-minute backoff cap.
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

/**
 * One gRPC client (one HTTP/2 channel) per replica address, created on first use and closed when
 * no replica in the routing table has that address any more.
 */
export class ReplicaClientPool {
  private readonly clients = new Map<string, { client: grpc.Client; api: ReplicaClient }>();
  private readonly Ctor: grpc.ServiceClientConstructor;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly unsubscribe: () => void;
  private readonly authorization: () => string | null;

  constructor(private readonly table: RoutingTableView, options: ReplicaClientPoolOptions = {}) {
    this.authorization = options.authorization ?? (() => null);
    this.Ctor = grpc.makeGenericClientConstructor(rawInferenceService(), 'GRPCInferenceService');
    const max = options.maxMessageBytes ?? -1;
    this.channelOptions = {
      ...DEFAULT_CHANNEL_OPTIONS,
      'grpc.max_send_message_length': max,
      'grpc.max_receive_message_length': max,
      ...options.channelOptions,
    };
    this.credentials = grpcChannelCredentials(options.tls ?? null);
    this.unsubscribe = table.onChange(() => this.prune());
  }

  /** The client for `address`, created when first asked for. */
  get(address: string): ReplicaClient {
    let entry = this.clients.get(address);
    if (entry === undefined) {
      const client = new this.Ctor(address, this.credentials, this.channelOptions);
      entry = { client, api: wrap(client, this.authorization) };
      this.clients.set(address, entry);
    }
    return entry.api;
  }

  /** Addresses with an open client. */
  openAddresses(): string[] {
    return [...this.clients.keys()];
  }

  /** Closes the clients of addresses that left the table. */
  prune(): void {
    const live = this.table.addresses();
    for (const [address, { client }] of this.clients) {
      if (!live.has(address)) {
        client.close();
        this.clients.delete(address);
      }
    }
  }

  close(): void {
    this.unsubscribe();
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}

function wrap(client: grpc.Client, authorization: () => string | null): ReplicaClient {
  const methods = client as unknown as Record<'ModelInfer' | 'ModelMetadata' | 'ModelReady', Unary>;
  const call = <T>(method: Unary, request: unknown, options: ReplicaCallOptions): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted === true) {
        reject(cancelled());
        return;
      }
      const onAbort = (): void => handle.cancel();
      const metadata = new grpc.Metadata();
      const auth = authorization();
      if (auth !== null) metadata.set('authorization', auth);
      const handle = method.call(client, request, metadata, { deadline: options.deadline }, (err, value) => {
        signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(err);
        else resolve(value as T);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  return {
    modelInfer: (request, options) => call<Buffer>(methods.ModelInfer, request, options),
    modelMetadata: (request, options) => call<ModelMetadataResponse__Output>(methods.ModelMetadata, request, options),
    modelReady: (request, options) => call<ModelReadyResponse__Output>(methods.ModelReady, request, options),
  };
}

function cancelled(): grpc.ServiceError {
  return Object.assign(new Error('1 CANCELLED: the client went away'), {
    code: grpc.status.CANCELLED, details: 'the client went away', metadata: new grpc.Metadata(),
  });
}

import type { AddressInfo } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { GridlineError } from '../common/errors.js';
import { applyHttpServerLimits } from '../common/http-server-limits.js';
import type { Logger } from '../common/logger.js';
import { silentLogger } from '../common/logger.js';
import { grpcServerCredentials } from '../common/tls/grpc-credentials.js';
import type { TlsMaterial } from '../common/tls/tls-material.js';
import { createWebServer, type WebServer } from '../common/tls/web-server.js';
import type { GatewayAccess } from './gateway-access.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { GatewayService } from './gateway-service.js';
import type { ServerMetadata } from './gateway-service.js';
import { bindGrpcServer, createGrpcServer } from './grpc-server.js';
import { LoadBalancer } from './load-balancer.js';
import type { LoadBalancerOptions } from './load-balancer.js';
import { ReplicaClientPool } from './replica-client-pool.js';
import { createRestApp, DEFAULT_BODY_LIMIT_BYTES } from './rest-server.js';
import type { RoutingTableView } from './routing-table.js';

export interface GatewayOptions {
  /** Interface both servers listen on (default 127.0.0.1). */
  readonly host?: string;
  /** 0 (the default): a free port, reported back. */
  readonly httpPort?: number;
  readonly grpcPort?: number;
  /** The routing table; the caller feeds it (a coordinator watch stream, a test). */
  readonly table: RoutingTableView;
  /** API keys callers must present and the service token for workers (fed by the routes watch). */
  readonly access: GatewayAccess;
  readonly logger?: Logger;
  /** Largest REST body and gRPC message (default 64 MiB). */
  readonly bodyLimitBytes?: number;
  /** Deadline of requests that name none (default 30 s). */
  readonly defaultTimeoutMs?: number;
  readonly maxTimeoutMs?: number;
  readonly balancer?: Omit<LoadBalancerOptions, 'onEject'>;
  readonly server?: Partial<ServerMetadata>;
  /** Extra options for the channels to replicas (tests shorten the reconnect backoff). */
  readonly replicaChannelOptions?: grpc.ChannelOptions;
  /**
   * The gateway's certificate, key and CA: HTTPS and TLS gRPC front doors (no client certificate
   * asked of end users: they authenticate with API keys), and its client certificate towards the
   * workers' model servers, whose certificates must come from the CA. Null or absent: plaintext.
   */
  readonly tls?: TlsMaterial | null;
}

export interface RunningGateway {
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly metrics: GatewayMetrics;
  readonly balancer: LoadBalancer;
  /** Stops accepting, gives in-flight requests up to `graceMs` (default 5 s), then closes everything. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the OIP gateway: REST (with /metrics) and gRPC front doors over one routing table. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const host = options.host ?? '127.0.0.1';
  const logger = (options.logger ?? silentLogger).child({ component: 'gateway' });
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const metrics = new GatewayMetrics();
  const balancer = new LoadBalancer(options.table, {
    ...options.balancer,
    onEject: (route, replica, forMs) => {
      metrics.ejections.inc({ model: route.model, replica: replica.id });
      logger.warn({ model: route.model, version: route.version, replica: replica.id, address: replica.address, forMs }, 'replica ejected after consecutive failures');
    },
  });
  const pool = new ReplicaClientPool(options.table, {
    channelOptions: options.replicaChannelOptions, tls: options.tls ?? null,
    authorization: () => options.access.serviceAuthorization(),
  });
  const service = new GatewayService({
    table: options.table, balancer, pool, metrics, logger,
    defaultTimeoutMs: options.defaultTimeoutMs, maxTimeoutMs: options.maxTimeoutMs, server: options.server,
  });

  const http = applyHttpServerLimits(createWebServer(options.tls ?? null, createRestApp(service, { bodyLimitBytes: limit, access: options.access })));
  const grpcServer = createGrpcServer(service, { maxMessageBytes: limit, access: options.access });
  let httpPort: number;
  let grpcPort: number;
  try {
    httpPort = await listen(http, host, options.httpPort ?? 0);
    grpcPort = await bindGrpcServer(grpcServer, host, options.grpcPort ?? 0, grpcServerCredentials(options.tls ?? null, { requireClientCert: false }));
  } catch (err) {
    http.close();
    grpcServer.forceShutdown();
    pool.close();
    balancer.close();
    const reason = err instanceof Error ? err.message : String(err);
    throw new GridlineError('UNAVAILABLE', `the gateway could not listen on ${host}: ${reason}`, { cause: err });
  }
  logger.info({ host, httpPort, grpcPort }, 'gateway listening');

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000): Promise<void> => {
    stopping ??= (async () => {
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      const grpcClosed = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      const timer = setTimeout(() => {
        http.closeAllConnections();
        grpcServer.forceShutdown();
      }, graceMs);
      await Promise.all([httpClosed, grpcClosed]);
      clearTimeout(timer);
      pool.close();
      balancer.close();
      logger.info({}, 'gateway stopped');
    })();
    return stopping;
  };
  return { httpPort, grpcPort, metrics, balancer, stop };
}

function listen(server: WebServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { GridlineError } from '../common/errors.js';
import { applyHttpServerLimits } from '../common/http-server-limits.js';
import { keySpace } from '../common/keys.js';
import type { Logger } from '../common/logger.js';
import { grpcServerCredentials } from '../common/tls/grpc-credentials.js';
import { createWebServer, type WebServer } from '../common/tls/web-server.js';
import { loadClusterProto } from '../proto/load-cluster-proto.js';
import { createHttpApp } from './api/http-app.js';
import { AccessControl } from './auth/access-control.js';
import { redisAccessStore } from './auth/access-store.js';
import { RecordSeal } from './auth/record-seal.js';
import { coordinatorConfig, type CoordinatorOptions } from './config.js';
import { ClusterService } from './grpc/cluster-service.js';
import { bullmqRunQueues } from './queues/run-queues.js';
import { NodeRegistry } from './registry/node-registry.js';
import { modelRoutes } from './routes/model-routes.js';
import { RoutePublisher } from './routes/route-publisher.js';
import { RunManager } from './runs/run-manager.js';
import { redisCoordinatorStore } from './store/coordinator-store.js';

export interface RunningCoordinator {
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly httpUrl: string;
  readonly grpcAddress: string;
  /** The static join token if one was configured, else one made at start (valid 24 h). */
  readonly joinToken: string;
  /** API keys, join tokens, node revocation. */
  readonly access: AccessControl;
  readonly registry: NodeRegistry;
  readonly runs: RunManager;
  /** The routing table gateways follow (GET /v1/routes/watch). */
  readonly routes: RoutePublisher;
  stop(): Promise<void>;
}

/**
 * Starts the control plane: state from Redis, the node registry with its lease sweep, the run
 * reconcile loop, the gRPC Cluster service and the REST API.
 */
export async function startCoordinator(options: CoordinatorOptions, logger: Logger): Promise<RunningCoordinator> {
  const config = coordinatorConfig(options);
  const keys = keySpace(config.keyPrefix);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new GridlineError('UNAVAILABLE', `cannot reach Redis at ${config.redisUrl}: ${(err as Error).message}`, { cause: err });
  }
  const store = redisCoordinatorStore(redis, keys);
  const access = new AccessControl(
    redisAccessStore(redis, keys.prefix), { staticAdminKey: config.adminKey, staticJoinToken: config.joinToken },
    Date.now, new RecordSeal(config.recordSecret),
  );
  if (config.recordSecret === null) logger.warn({}, 'no coordinator secret: credentials in Redis are not sealed (anything that can write Redis can plant one)');
  const tampered = [...(await access.load()).ignored];
  const joinToken = config.joinToken ?? (await access.create('join-token', { name: 'startup', ttlMs: STARTUP_JOIN_TOKEN_TTL_MS })).token;
  const lease = { heartbeatIntervalMs: config.heartbeatIntervalMs, ttlMs: config.ttlMs };
  // Workers back off up to 5 s between reconnects: give them that much more after a restart.
  const registry = new NodeRegistry(store, { ...lease, restartGraceMs: 6_000 }, logger.child({ component: 'registry' }));
  await registry.load();
  const cluster = new ClusterService(
    { access, ...lease, redisUrl: config.advertisedRedisUrl, keyPrefix: config.keyPrefix },
    registry, store, logger.child({ component: 'cluster' }),
  );
  tampered.push(...(await cluster.load()).ignored);
  if (tampered.length > 0) logger.error({ records: tampered }, 'credentials in Redis failed their integrity check and are ignored: something other than this coordinator wrote them (or its secret changed)');
  const runs = new RunManager(
    store, registry, bullmqRunQueues(redis, keys), cluster,
    { keyPrefix: config.keyPrefix, reconcileIntervalMs: config.reconcileIntervalMs, unschedulableTimeoutMs: config.unschedulableTimeoutMs, heartbeatIntervalMs: config.heartbeatIntervalMs },
    logger.child({ component: 'runs' }),
  );
  cluster.attach(runs);
  await runs.load();
  const routes = new RoutePublisher(() => modelRoutes(registry.list(), runs.servingReplicas()));

  const grpcServer = new grpc.Server({ 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1 });
  grpcServer.addService(loadClusterProto().gridline.cluster.v1.Cluster.service, cluster.handlers());
  let grpcPort: number;
  let http: WebServer;
  try {
    grpcPort = await new Promise<number>((resolve, reject) => {
      // With TLS, a worker must present a certificate from the CA before it can even register.
      grpcServer.bindAsync(`${config.host}:${config.grpcPort}`, grpcServerCredentials(config.tls, { requireClientCert: true }), (err, port) => (err ? reject(err) : resolve(port)));
    }).catch((err: unknown) => {
      throw new GridlineError('UNAVAILABLE', `cannot listen for gRPC on ${config.host}:${config.grpcPort}: ${(err as Error).message}`, { cause: err });
    });
    const app = createHttpApp({
      runs, registry, logger: logger.child({ component: 'api' }), bodyLimit: config.bodyLimitBytes,
      health: async () => ({ redis: await pingWithin(redis, 1_000) }),
      routes,
      allowedDirs: config.allowedDirs,
      access,
      revokeNode: (nodeId) => cluster.revokeNode(nodeId),
    });
    http = await new Promise((resolve, reject) => {
      const server = applyHttpServerLimits(createWebServer(config.tls, app));
      server.listen(config.httpPort, config.host, () => resolve(server));
      server.once('error', (err) => reject(new GridlineError('UNAVAILABLE', `cannot listen for HTTP on ${config.host}:${config.httpPort}: ${err.message}`, { cause: err })));
    });
  } catch (err) {
    // Leave nothing open behind a failed start, or the process would hang instead of exiting.
    grpcServer.forceShutdown();
    redis.disconnect();
    throw err;
  }
  const httpPort = (http.address() as AddressInfo).port;

  registry.start();
  runs.start();
  routes.start();
  logger.info({ http: httpPort, grpc: grpcPort, heartbeatMs: config.heartbeatIntervalMs, ttlMs: config.ttlMs, allowedDirs: config.allowedDirs }, 'coordinator listening');

  return {
    httpPort,
    grpcPort,
    httpUrl: `${config.tls === null ? 'http' : 'https'}://${config.host}:${httpPort}`,
    grpcAddress: `${config.host}:${grpcPort}`,
    joinToken,
    access,
    registry,
    runs,
    routes,
    async stop() {
      routes.stop();
      registry.stop();
      await runs.stop();
      cluster.closeAll();
      await Promise.race([
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref()),
      ]);
      grpcServer.forceShutdown();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      // Bounded: with Redis away, QUIT waits behind the queued commands (maxRetriesPerRequest: null)
      // forever, and the client would go on reconnecting; disconnect() ends both.
      await Promise.race([
        redis.quit().catch(() => undefined),
        new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref()),
      ]);
      redis.disconnect();
    },
  };
}

/** Like kubeadm's bootstrap token: enough to bring a cluster up, not a standing secret. */
const STARTUP_JOIN_TOKEN_TTL_MS = 24 * 3600 * 1000;

/** Redis health that answers within `ms` even while Redis is down (commands would wait forever). */
async function pingWithin(redis: Redis, ms: number): Promise<string> {
  if (redis.status !== 'ready') return `redis connection is ${redis.status}`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([redis.ping().then(() => 'ok', (e: Error) => e.message), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

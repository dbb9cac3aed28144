import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../common/logger.js';
import type { TlsMaterial } from '../common/tls/tls-material.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { GatewayAccess, RoutingTable, startGateway, type RunningGateway } from '../gateway/index.js';
import { ensureAdminKeyFile } from './admin-key-file.js';
import { coordinatorSecret } from './coordinator-secret.js';
import { startPrivateRedis, type PrivateRedis } from './redis/private-redis.js';
import { spawnWorkerProcess, stopChild } from './worker-process.js';

export interface LocalClusterOptions {
  readonly workers: number;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly host: string;
  /** Null: start a private redis-server with its data under dataDir. */
  readonly redisUrl: string | null;
  readonly dataDir: string;
  readonly gpus?: string;
  /** Directories pipelines may use, for the coordinator and the workers (undefined: the working directory). */
  readonly allowedDirs?: readonly string[] | undefined;
  /** Folders the workers load custom op modules from (undefined: none). */
  readonly opModuleDirs?: readonly string[] | undefined;
  readonly heartbeatIntervalMs?: number;
  readonly keyPrefix?: string;
  /** A static admin key (GRIDLINE_ADMIN_KEY); absent: one is made and kept in dataDir/admin.key. */
  readonly adminKey?: string;
  readonly logger: Logger;
  /** Start an inference gateway in this process too, on these ports. */
  readonly gateway?: { readonly httpPort: number; readonly grpcPort: number };
  /** TLS for every part of the cluster; null or absent: plaintext (loopback). */
  readonly tls?: LocalClusterTls | null;
}

export interface LocalClusterTls {
  readonly coordinator: TlsMaterial;
  readonly gateway: TlsMaterial;
  /** The flags that give a worker process its own (--tls-dir DIR, or the files). */
  readonly workerArgs: readonly string[];
}

export interface LocalCluster {
  readonly coordinator: RunningCoordinator;
  /** The admin API key, and the file it is kept in (null for a static key). */
  readonly adminKey: { readonly key: string; readonly file: string | null };
  readonly redisUrl: string;
  readonly workerLogs: readonly string[];
  readonly workers: readonly ChildProcess[];
  readonly gateway: RunningGateway | null;
  stop(): Promise<void>;
}

/** Redis (private unless REDIS_URL is given), a coordinator in this process, N worker processes. */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const dataDir = resolve(options.dataDir);
  await mkdir(join(dataDir, 'logs'), { recursive: true });
  let redis: PrivateRedis | null = null;
  let redisUrl = options.redisUrl;
  if (redisUrl === null) {
    redis = await startPrivateRedis({ dataDir: join(dataDir, 'redis'), logger: options.logger });
    redisUrl = redis.url;
    options.logger.info({ url: redisUrl, dataDir: join(dataDir, 'redis') }, 'started a private redis-server (set REDIS_URL to use your own)');
  }
  let coordinator: RunningCoordinator;
  try {
    coordinator = await startCoordinator({
      redisUrl, host: options.host, httpPort: options.httpPort, grpcPort: options.grpcPort, tls: options.tls?.coordinator ?? null,
      ...(options.heartbeatIntervalMs ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
      ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
      ...(options.allowedDirs ? { allowedDirs: options.allowedDirs } : {}),
      ...(options.adminKey ? { adminKey: options.adminKey } : {}),
      recordSecret: await coordinatorSecret(join(dataDir, 'coordinator.secret')),
    }, options.logger.child({ component: 'coordinator' }));
  } catch (err) {
    await redis?.stop();
    throw err;
  }
  let adminKey: LocalCluster['adminKey'];
  try {
    adminKey = options.adminKey ? { key: options.adminKey, file: null } : await ensureAdminKeyFile(coordinator.access, join(dataDir, 'admin.key'));
  } catch (err) {
    await coordinator.stop();
    await redis?.stop();
    throw err;
  }
  const workers: ChildProcess[] = [];
  const workerLogs: string[] = [];
  for (let i = 1; i <= options.workers; i++) {
    const logFile = join(dataDir, 'logs', `worker-${i}.log`);
    workerLogs.push(logFile);
    workers.push(spawnWorkerProcess({
      // A wildcard listen address is dialled on loopback, a name the certificates carry.
      coordinator: coordinator.grpcAddress.replace(/^(0\.0\.0\.0|::):/, '127.0.0.1:'),
      joinToken: coordinator.joinToken,
      ...(options.tls ? { extraArgs: options.tls.workerArgs } : {}),
      nodeId: `local-${i}`,
      ...(options.gpus ? { gpus: options.gpus } : {}),
      ...(options.allowedDirs ? { allowedDirs: options.allowedDirs } : {}),
      ...(options.opModuleDirs ? { opModuleDirs: options.opModuleDirs } : {}),
      logFile,
    }));
  }
  let gateway: RunningGateway | null = null;
  let feed: { stop(): void } | null = null;
  if (options.gateway) {
    // In the same process as the coordinator: follow its route publisher directly, no HTTP watch.
    const table = new RoutingTable(coordinator.routes.current().models);
    const unsubscribe = coordinator.routes.subscribe((snapshot) => table.apply({ kind: 'snapshot', models: snapshot.models }));
    const access = new GatewayAccess();
    const keys = (): void => access.apply(coordinator.access.keyEntries(), coordinator.access.serviceToken());
    keys();
    const unsubscribeKeys = coordinator.access.subscribe(keys);
    feed = {
      stop: () => {
        unsubscribe();
        unsubscribeKeys();
      },
    };
    try {
      gateway = await startGateway({ host: options.host, httpPort: options.gateway.httpPort, grpcPort: options.gateway.grpcPort, table, access, logger: options.logger, tls: options.tls?.gateway ?? null });
    } catch (err) {
      feed.stop();
      await Promise.all(workers.map((w) => stopChild(w)));
      await coordinator.stop();
      await redis?.stop();
      throw err;
    }
  }
  let stopping: Promise<void> | null = null;
  return {
    coordinator,
    adminKey,
    redisUrl,
    workerLogs,
    workers,
    gateway,
    // Idempotent: a signal handler and a finally block may both ask.
    stop() {
      stopping ??= (async () => {
        feed?.stop();
        await gateway?.stop(1_000);
        await Promise.all(workers.map((w) => stopChild(w)));
        await coordinator.stop();
        await redis?.stop();
      })();
      return stopping;
    },
  };
}

/** Resolves once `count` nodes are ready, or rejects after timeoutMs naming how many came up. */
export async function waitForNodes(coordinator: RunningCoordinator, count: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal?.aborted) return;
    if (coordinator.registry.list().filter((n) => n.state === 'ready').length >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ready = coordinator.registry.list().filter((n) => n.state === 'ready').length;
  throw new Error(`only ${ready} of ${count} workers became ready within ${timeoutMs} ms (see the worker logs)`);
}

import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../common/logger.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { RoutingTable, startGateway, type RunningGateway } from '../gateway/index.js';
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
  readonly heartbeatIntervalMs?: number;
  readonly keyPrefix?: string;
  readonly logger: Logger;
  /** Start an inference gateway in this process too, on these ports. */
  readonly gateway?: { readonly httpPort: number; readonly grpcPort: number };
}

export interface LocalCluster {
  readonly coordinator: RunningCoordinator;
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
      redisUrl, host: options.host, httpPort: options.httpPort, grpcPort: options.grpcPort,
      ...(options.heartbeatIntervalMs ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
      ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    }, options.logger.child({ component: 'coordinator' }));
  } catch (err) {
    await redis?.stop();
    throw err;
  }
  const workers: ChildProcess[] = [];
  const workerLogs: string[] = [];
  for (let i = 1; i <= options.workers; i++) {
    const logFile = join(dataDir, 'logs', `worker-${i}.log`);
    workerLogs.push(logFile);
    workers.push(spawnWorkerProcess({
      coordinator: coordinator.grpcAddress,
      joinToken: coordinator.joinToken,
      nodeId: `local-${i}`,
      ...(options.gpus ? { gpus: options.gpus } : {}),
      logFile,
    }));
  }
  let gateway: RunningGateway | null = null;
  let feed: { stop(): void } | null = null;
  if (options.gateway) {
    // In the same process as the coordinator: follow its route publisher directly, no HTTP watch.
    const table = new RoutingTable(coordinator.routes.current().models);
    const unsubscribe = coordinator.routes.subscribe((snapshot) => table.apply({ kind: 'snapshot', models: snapshot.models }));
    feed = { stop: unsubscribe };
    try {
      gateway = await startGateway({ host: options.host, httpPort: options.gateway.httpPort, grpcPort: options.gateway.grpcPort, table, logger: options.logger });
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

import type { Logger } from '../../common/logger.js';
import { startCoordinator } from '../../coordinator/coordinator.js';

export interface CoordinatorCommandOptions {
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly redisUrl: string;
  readonly advertiseRedisUrl?: string;
  readonly keyPrefix: string;
  readonly joinToken?: string;
  readonly heartbeatMs: number;
}

/** `gridline coordinator`: the control plane alone (production, or tests that kill it). */
export async function coordinatorCommand(options: CoordinatorCommandOptions, logger: Logger): Promise<void> {
  const c = await startCoordinator({
    host: options.host, httpPort: options.httpPort, grpcPort: options.grpcPort,
    redisUrl: options.redisUrl, keyPrefix: options.keyPrefix, heartbeatIntervalMs: options.heartbeatMs,
    ...(options.advertiseRedisUrl ? { advertisedRedisUrl: options.advertiseRedisUrl } : {}),
    ...(options.joinToken ? { joinToken: options.joinToken } : {}),
  }, logger);
  // One machine-readable line so scripts and tests can find the ports chosen for port 0.
  process.stdout.write(`${JSON.stringify({ event: 'listening', http: c.httpPort, grpc: c.grpcPort, joinToken: c.joinToken })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await c.stop();
}

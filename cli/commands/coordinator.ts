import type { Logger } from '../../common/logger.js';
import { startCoordinator } from '../../coordinator/coordinator.js';
import { ensureAdminKeyFile } from '../admin-key-file.js';
import { coordinatorSecret } from '../coordinator-secret.js';
import { serverTls, type ServerTlsFlags } from '../tls/server-tls.js';

export interface CoordinatorCommandOptions extends ServerTlsFlags {
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly redisUrl: string;
  readonly advertiseRedisUrl?: string;
  readonly keyPrefix: string;
  readonly joinToken?: string;
  readonly heartbeatMs: number;
  /** A static admin key (GRIDLINE_ADMIN_KEY); absent: one is made and kept in adminKeyFile. */
  readonly adminKey?: string;
  readonly adminKeyFile: string;
  /** Where the secret sealing credentials in Redis is kept (unless GRIDLINE_COORDINATOR_SECRET). */
  readonly secretFile: string;
  /** Undefined: the working directory only. */
  readonly allowedDirs?: readonly string[] | undefined;
}

/** `gridline coordinator`: the control plane alone (production, or tests that kill it). */
export async function coordinatorCommand(options: CoordinatorCommandOptions, logger: Logger): Promise<void> {
  const tls = await serverTls(options, 'coordinator', [{ what: 'coordinator HTTP API and gRPC port', host: options.host, hostFlag: '--host' }], logger);
  const c = await startCoordinator({
    tls,
    host: options.host, httpPort: options.httpPort, grpcPort: options.grpcPort,
    redisUrl: options.redisUrl, keyPrefix: options.keyPrefix, heartbeatIntervalMs: options.heartbeatMs,
    ...(options.advertiseRedisUrl ? { advertisedRedisUrl: options.advertiseRedisUrl } : {}),
    ...(options.joinToken ? { joinToken: options.joinToken } : {}),
    ...(options.adminKey ? { adminKey: options.adminKey } : {}),
    recordSecret: await coordinatorSecret(options.secretFile),
    ...(options.allowedDirs ? { allowedDirs: options.allowedDirs } : {}),
  }, logger);
  if (!options.adminKey) {
    const admin = await ensureAdminKeyFile(c.access, options.adminKeyFile);
    if (admin.created) logger.info({ file: admin.file }, 'made an admin API key: CLI commands run in this directory use it (or set GRIDLINE_API_KEY)');
  }
  // One machine-readable line so scripts and tests can find the ports chosen for port 0.
  // The join token made at start (valid 24 h) is printed for the operator; a static one is not echoed.
  process.stdout.write(`${JSON.stringify({ event: 'listening', http: c.httpPort, grpc: c.grpcPort, joinToken: options.joinToken ? null : c.joinToken })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await c.stop();
}

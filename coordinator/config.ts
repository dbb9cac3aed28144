import { realpathSync, statSync } from 'node:fs';
import { resolveAllowedDirs } from '../common/allowed-dirs.js';
import { GridlineError } from '../common/errors.js';
import type { TlsMaterial } from '../common/tls/tls-material.js';

export interface CoordinatorConfig {
  readonly host: string;
  /** 0 = pick a free port. */
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly redisUrl: string;
  /** Redis URL announced to nodes, when they must reach Redis at another address. */
  readonly advertisedRedisUrl: string;
  readonly keyPrefix: string;
  /** A join token that never expires (for automation); null: only tokens made with `gridline token create`. */
  readonly joinToken: string | null;
  /** An admin API key given by the operator (GRIDLINE_ADMIN_KEY); null: only stored keys. */
  readonly adminKey: string | null;
  /** Seals the credentials kept in Redis (auth/record-seal.ts); null: unsealed (tests in one process). */
  readonly recordSecret: string | null;
  /** TLS for both listeners (HTTPS; gRPC requiring worker certificates from the CA); null: plaintext. */
  readonly tls: TlsMaterial | null;
  readonly heartbeatIntervalMs: number;
  readonly ttlMs: number;
  readonly reconcileIntervalMs: number;
  readonly unschedulableTimeoutMs: number;
  readonly bodyLimitBytes: number;
  /**
   * Real paths of the directories pipelines may read, write and load op modules from (checked at
   * submit). Default: the working directory only.
   */
  readonly allowedDirs: readonly string[];
}

export type CoordinatorOptions = Partial<CoordinatorConfig> & { readonly redisUrl: string };

/**
 * Fills defaults and checks ranges once; the result is frozen. The TTL defaults to 2.5 heartbeat
 * intervals, so a dead node is marked lost within 3 intervals (the sweep runs every quarter).
 */
export function coordinatorConfig(options: CoordinatorOptions): CoordinatorConfig {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
  const allowed = resolveAllowedDirs(options.allowedDirs ?? [process.cwd()], process.cwd(), { realpath: realpathSync.native, isDirectory: (p) => statSync(p).isDirectory() });
  const config: CoordinatorConfig = {
    host: options.host ?? '127.0.0.1',
    httpPort: options.httpPort ?? 7070,
    grpcPort: options.grpcPort ?? 7071,
    redisUrl: options.redisUrl,
    advertisedRedisUrl: options.advertisedRedisUrl ?? options.redisUrl,
    keyPrefix: options.keyPrefix ?? 'gridline',
    joinToken: options.joinToken ?? null,
    adminKey: options.adminKey ?? null,
    recordSecret: options.recordSecret ?? null,
    tls: options.tls ?? null,
    heartbeatIntervalMs,
    ttlMs: options.ttlMs ?? Math.round(heartbeatIntervalMs * 2.5),
    reconcileIntervalMs: options.reconcileIntervalMs ?? 250,
    unschedulableTimeoutMs: options.unschedulableTimeoutMs ?? 60_000,
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    allowedDirs: Object.freeze([...allowed.dirs]),
  };
  const problems: string[] = [];
  for (const key of ['httpPort', 'grpcPort'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 0 || config[key] > 65535) problems.push(`${key} must be 0..65535, got ${config[key]}`);
  }
  if (!(config.heartbeatIntervalMs >= 20 && config.heartbeatIntervalMs <= 60_000)) problems.push(`heartbeatIntervalMs must be 20..60000, got ${config.heartbeatIntervalMs}`);
  if (!(config.ttlMs > config.heartbeatIntervalMs)) problems.push(`ttlMs (${config.ttlMs}) must exceed heartbeatIntervalMs (${config.heartbeatIntervalMs})`);
  if (!/^[A-Za-z0-9][\w.-]*$/.test(config.keyPrefix)) problems.push(`keyPrefix "${config.keyPrefix}" must be letters, digits, _ . -`);
  if (config.recordSecret !== null && config.recordSecret.length < 32) problems.push(`the coordinator secret must be at least 32 characters, got ${config.recordSecret.length}`);
  if (!/^rediss?:\/\//.test(config.redisUrl)) problems.push(`redisUrl must start with redis:// or rediss://, got "${config.redisUrl}"`);
  problems.push(...allowed.problems.map((p) => `allowed directory ${p}`));
  if (problems.length > 0) throw new GridlineError('INVALID_ARGUMENT', `invalid coordinator configuration: ${problems.join('; ')}`);
  return Object.freeze(config);
}

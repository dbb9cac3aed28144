import { randomBytes } from 'node:crypto';
import { GridlineError } from '../common/errors.js';

export interface CoordinatorConfig {
  readonly host: string;
  /** 0 = pick a free port. */
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly redisUrl: string;
  /** Redis URL announced to nodes, when they must reach Redis at another address. */
  readonly advertisedRedisUrl: string;
  readonly keyPrefix: string;
  /** Null: keep the token stored in Redis, or create one. */
  readonly joinToken: string | null;
  readonly heartbeatIntervalMs: number;
  readonly ttlMs: number;
  readonly reconcileIntervalMs: number;
  readonly unschedulableTimeoutMs: number;
  readonly bodyLimitBytes: number;
}

export type CoordinatorOptions = Partial<CoordinatorConfig> & { readonly redisUrl: string };

/**
 * Fills defaults and checks ranges once; the result is frozen. The TTL defaults to 2.5 heartbeat
 * intervals, so a dead node is marked lost within 3 intervals (the sweep runs every quarter).
 */
export function coordinatorConfig(options: CoordinatorOptions): CoordinatorConfig {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
  const config: CoordinatorConfig = {
    host: options.host ?? '127.0.0.1',
    httpPort: options.httpPort ?? 7070,
    grpcPort: options.grpcPort ?? 7071,
    redisUrl: options.redisUrl,
    advertisedRedisUrl: options.advertisedRedisUrl ?? options.redisUrl,
    keyPrefix: options.keyPrefix ?? 'gridline',
    joinToken: options.joinToken ?? null,
    heartbeatIntervalMs,
    ttlMs: options.ttlMs ?? Math.round(heartbeatIntervalMs * 2.5),
    reconcileIntervalMs: options.reconcileIntervalMs ?? 250,
    unschedulableTimeoutMs: options.unschedulableTimeoutMs ?? 60_000,
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
  };
  const problems: string[] = [];
  for (const key of ['httpPort', 'grpcPort'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 0 || config[key] > 65535) problems.push(`${key} must be 0..65535, got ${config[key]}`);
  }
  if (!(config.heartbeatIntervalMs >= 20 && config.heartbeatIntervalMs <= 60_000)) problems.push(`heartbeatIntervalMs must be 20..60000, got ${config.heartbeatIntervalMs}`);
  if (!(config.ttlMs > config.heartbeatIntervalMs)) problems.push(`ttlMs (${config.ttlMs}) must exceed heartbeatIntervalMs (${config.heartbeatIntervalMs})`);
  if (!/^[A-Za-z0-9][\w.-]*$/.test(config.keyPrefix)) problems.push(`keyPrefix "${config.keyPrefix}" must be letters, digits, _ . -`);
  if (!/^rediss?:\/\//.test(config.redisUrl)) problems.push(`redisUrl must start with redis:// or rediss://, got "${config.redisUrl}"`);
  if (problems.length > 0) throw new GridlineError('INVALID_ARGUMENT', `invalid coordinator configuration: ${problems.join('; ')}`);
  return Object.freeze(config);
}

export function newJoinToken(): string {
  return `gl-join-${randomBytes(18).toString('base64url')}`;
}

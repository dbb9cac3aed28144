import { mkdir, open, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GridlineError } from '../../common/errors.js';
import { freePort } from '../../common/ports.js';
import type { ManagedChild } from './child-process.js';
import { spawnManagedChild } from './child-process.js';
import { findExecutable } from './find-executable.js';
import { pingRedis } from './redis-ping.js';

/** Structurally a subset of pino's Logger. */
export interface PrivateRedisLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface PrivateRedisOptions {
  /** Holds the append-only file and redis.log; created if missing. */
  readonly dataDir: string;
  readonly logger?: PrivateRedisLogger;
  /** Environment to find redis-server in (PATH) and run it with; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long to wait for the first +PONG; replaying a large AOF takes a while. */
  readonly readyTimeoutMs?: number;
}

export interface PrivateRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM (Redis fsyncs its AOF and exits), SIGKILL after 5 s; idempotent. */
  stop(): Promise<void>;
}

export const REDIS_NOT_FOUND_MESSAGE =
  'redis-server was not found on the PATH: install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL to a running Redis (redis://host:6379).';

const HOST = '127.0.0.1';
const DEFAULT_READY_TIMEOUT_MS = 10_000;
const PING_EVERY_MS = 50;
const STOP_GRACE_MS = 5_000;
/** freePort's port can be taken before redis-server binds it; then we try another. */
const PORT_ATTEMPTS = 3;
const LOG_TAIL_LINES = 20;

/**
 * Starts a redis-server of our own, bound to localhost on a free port, persisting to dataDir,
 * and resolves once it answers PING. It is killed if this process exits without stop().
 */
export async function startPrivateRedis(options: PrivateRedisOptions): Promise<PrivateRedis> {
  const env = options.env ?? process.env;
  const binary = await findExecutable('redis-server', env);
  if (binary === undefined) throw new GridlineError('UNAVAILABLE', REDIS_NOT_FOUND_MESSAGE);

  // Absolute: redis-server chdirs into --dir while reading its arguments, so a relative
  // --logfile would then resolve inside it.
  const dataDir = resolvePath(options.dataDir);
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (err) {
    throw new GridlineError('UNAVAILABLE', `cannot create the Redis data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
  const logFile = join(dataDir, 'redis.log');

  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort(HOST);
    const logStart = await sizeOf(logFile);
    const child = await spawnRedisServer(binary, port, dataDir, logFile, env);
    const failure = await waitUntilReady(child, port, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    if (failure === undefined) return running(child, port, logFile, options.logger);

    await child.stop(STOP_GRACE_MS);
    const output = [child.outputTail().trim(), await readTail(logFile, logStart)].filter((s) => s !== '').join('\n');
    if (/address already in use/i.test(output) && attempt < PORT_ATTEMPTS) {
      options.logger?.warn(`port ${port} was taken before redis-server could bind it: trying another`);
      continue;
    }
    const tail = output === '' ? ' (it printed nothing)' : `; its last lines:\n${lastLines(output, LOG_TAIL_LINES)}`;
    throw new GridlineError('UNAVAILABLE', `redis-server (${binary}) ${failure}${tail}`, {
      details: { binary, port, dataDir, logFile },
    });
  }
}

function spawnRedisServer(binary: string, port: number, dataDir: string, logFile: string, env: NodeJS.ProcessEnv): Promise<ManagedChild> {
  const args = [
    '--port', String(port),
    '--bind', HOST,
    '--dir', dataDir,
    // Durable across restarts, losing at most a second of writes; no RDB snapshots (forks) on top.
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--logfile', logFile,
  ];
  return spawnManagedChild(binary, args, { env, cwd: dataDir }).catch((err: unknown) => {
    throw new GridlineError('UNAVAILABLE', `cannot start ${binary}: ${(err as Error).message}`, { cause: err });
  });
}

/** undefined once it answers PING; otherwise what went wrong, as the end of a sentence. */
async function waitUntilReady(child: ManagedChild, port: number, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exit = child.exit();
    if (exit) return `exited (${exit.signal ?? `code ${exit.code}`}) before answering PING`;
    if (await pingRedis(port, HOST)) return undefined;
    if (Date.now() >= deadline) return `did not answer PING on ${HOST}:${port} within ${timeoutMs} ms`;
    await Promise.race([sleep(PING_EVERY_MS), child.exited]);
  }
}

function running(child: ManagedChild, port: number, logFile: string, logger: PrivateRedisLogger | undefined): PrivateRedis {
  const url = `redis://${HOST}:${port}`;
  let stopping: Promise<void> | undefined;
  logger?.info(`private redis-server (pid ${child.pid}) at ${url}, log in ${logFile}`);
  void child.exited.then((exit) => {
    if (!stopping) logger?.warn(`private redis-server at ${url} exited unexpectedly (${exit.signal ?? `code ${exit.code}`}): see ${logFile}`);
  });
  return {
    url,
    port,
    pid: child.pid,
    stop() {
      stopping ??= child.stop(STOP_GRACE_MS).then(({ forced }) => {
        if (forced) logger?.warn(`private redis-server at ${url} ignored SIGTERM for ${STOP_GRACE_MS / 1000} s: killed it`);
      });
      return stopping;
    },
  };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** What was appended to the log since `from`: earlier runs' lines would only mislead. */
async function readTail(path: string, from: number): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const start = Math.max(from, size - 16_384);
      const buffer = Buffer.alloc(Math.max(0, size - start));
      await file.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8').trim();
    } finally {
      await file.close();
    }
  } catch {
    return '';
  }
}

function lastLines(text: string, count: number): string {
  return text.split('\n').slice(-count).join('\n');
}

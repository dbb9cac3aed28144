import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import { findExecutable } from './find-executable.js';
import { REDIS_NOT_FOUND_MESSAGE, startPrivateRedis } from './private-redis.js';
import type { PrivateRedisLogger } from './private-redis.js';
import { pingRedis } from './redis-ping.js';

const realRedis = await findExecutable('redis-server');

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function recordingLogger(): PrivateRedisLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gridline-redis-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A directory holding only a fake `redis-server` script, for use as the whole PATH. */
async function fakeRedisDir(name: string, body: string): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  const script = join(dir, 'redis-server');
  await writeFile(script, `#!/bin/sh\nPATH=/usr/bin:/bin\n${body}\n`);
  await chmod(script, 0o755);
  return dir;
}

describe.skipIf(realRedis === undefined)('startPrivateRedis with a real redis-server', () => {
  it('starts, persists to dataDir, answers ioredis, and stops', async () => {
    // A space in the path checks the arguments reach redis-server intact.
    const dataDir = join(tmp, 'data dir', 'nested');
    const logger = recordingLogger();
    const redis = await startPrivateRedis({ dataDir, logger });
    let client: Redis | undefined;
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(isRunning(redis.pid)).toBe(true);
      client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      await client.set('gridline:test', 'kept');
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    } finally {
      client?.disconnect();
      await redis.stop();
    }
    expect(isRunning(redis.pid)).toBe(false);
    expect(await pingRedis(redis.port)).toBe(false);
    await redis.stop(); // idempotent
    expect(await readFile(join(dataDir, 'redis.log'), 'utf8')).toContain('Ready to accept connections');
    expect(logger.lines).toEqual([expect.stringMatching(/^info private redis-server \(pid \d+\) at redis:\/\/127\.0\.0\.1:\d+/)]);

    // The AOF in dataDir brings the data back on the next start.
    const again = await startPrivateRedis({ dataDir });
    const reader = new Redis(again.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await reader.connect();
      expect(await reader.get('gridline:test')).toBe('kept');
    } finally {
      reader.disconnect();
      await again.stop();
    }
  });
});

describe('startPrivateRedis without a usable redis-server', () => {
  it('says how to get one when redis-server is not on the PATH', async () => {
    const emptyDir = join(tmp, 'empty-path');
    await mkdir(emptyDir, { recursive: true });
    const start = startPrivateRedis({ dataDir: join(tmp, 'unused'), env: { PATH: emptyDir } });
    await expect(start).rejects.toBeInstanceOf(GridlineError);
    await expect(start).rejects.toMatchObject({ code: 'UNAVAILABLE', message: REDIS_NOT_FOUND_MESSAGE });
  });

  it('reports the last lines of a redis-server that exits at once', async () => {
    const path = await fakeRedisDir('crashes', 'echo "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***" >&2\necho ">>> \'appendfsync sometimes\'" >&2\nexit 1');
    const start = startPrivateRedis({ dataDir: join(tmp, 'crash-data'), env: { PATH: path } });
    await expect(start).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/exited \(code 1\) before answering PING; its last lines:\n\*\*\* FATAL CONFIG FILE ERROR.*\n>>> 'appendfsync sometimes'$/),
    });
  });

  it('gives up on a redis-server that never answers, and kills it', async () => {
    const pidFile = join(tmp, 'silent.pid');
    const path = await fakeRedisDir('silent', `echo $$ > '${pidFile}'\nexec sleep 60`);
    const start = startPrivateRedis({ dataDir: join(tmp, 'silent-data'), env: { PATH: path }, readyTimeoutMs: 300 });
    await expect(start).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/did not answer PING on 127\.0\.0\.1:\d+ within 300 ms \(it printed nothing\)$/),
    });
    expect(isRunning(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it.skipIf(realRedis === undefined)('tries another port when its port was taken first', async () => {
    const marker = join(tmp, 'port-taken-once');
    const path = await fakeRedisDir(
      'port-taken',
      `if [ ! -f '${marker}' ]; then\n  touch '${marker}'\n  echo "# Warning: Could not create server TCP listening socket 127.0.0.1:1: bind: Address already in use" >&2\n  exit 1\nfi\nexec '${realRedis}' "$@"`,
    );
    const logger = recordingLogger();
    const redis = await startPrivateRedis({ dataDir: join(tmp, 'port-taken-data'), env: { PATH: path }, logger });
    try {
      expect(await pingRedis(redis.port)).toBe(true);
      expect(logger.lines[0]).toMatch(/^warn port \d+ was taken before redis-server could bind it: trying another$/);
    } finally {
      await redis.stop();
    }
  });
});

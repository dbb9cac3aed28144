import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { WorkItem } from '../items/work-item.js';
import { createJsonlSinkHandler } from './jsonl-sink-handler.js';

describe('JSONL sink', () => {
  let dir: string;
  let redis: Redis;
  const key = `gltest-sink-${process.pid}-${Date.now()}:written`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gl-sink-'));
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  afterAll(async () => {
    await redis.del(key);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  const item = (id: string) => new WorkItem({ id, key: `${id}.png`, meta: { lines: [{ text: id }], big: 'x' } });

  it('writes each item once, even when a chunk is delivered again', async () => {
    const path = join(dir, 'once.jsonl');
    const sink = await createJsonlSinkHandler({ kind: 'jsonl', path, fields: ['lines'] }, 'run1', redis, `${key}:a`, silentLogger);
    expect(await sink.process([item('a'), item('b')])).toEqual([null, null]);
    await sink.process([item('b'), item('c')]);
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.id)).toEqual(['a', 'b', 'c']);
    expect(lines[0]).toEqual({ id: 'a', key: 'a.png', run: 'run1', lines: [{ text: 'a' }] });
    await redis.del(`${key}:a`);
  });

  it('resumes after a crash mid-write: the partial line is cut and not duplicated', async () => {
    const path = join(dir, 'resume.jsonl');
    await writeFile(path, `${JSON.stringify({ id: 'a', key: 'a.png', run: 'run2' })}\n{"id":"b","key":"b.p`);
    const sink = await createJsonlSinkHandler({ kind: 'jsonl', path, fields: null }, 'run2', redis, key, silentLogger);
    await sink.process([item('a'), item('b')]);
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    expect(lines.map((l) => l.id)).toEqual(['a', 'b']);
  });

  it('moves a file left by another run aside', async () => {
    const path = join(dir, 'other.jsonl');
    await writeFile(path, `${JSON.stringify({ id: 'z', run: 'old' })}\n`);
    await createJsonlSinkHandler({ kind: 'jsonl', path, fields: null }, 'run3', redis, `${key}:c`, silentLogger);
    expect(await readFile(`${path}.prev`, 'utf8')).toContain('"old"');
    await redis.del(`${key}:c`);
  });
});

describe('JSONL sink and files of other runs', () => {
  it('moves another run\'s file aside whole, even when it ends without a newline', async () => {
    const { mkdtemp: mk } = await import('node:fs/promises');
    const d = await mk(join(tmpdir(), 'gl-sink2-'));
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      const path = join(d, 'r.jsonl');
      const foreign = JSON.stringify({ id: 'z', run: 'old-run' });
      await writeFile(path, foreign);
      await createJsonlSinkHandler({ kind: 'jsonl', path, fields: null }, 'new-run', redis, `gltest-sink2-${process.pid}`, silentLogger);
      expect(await readFile(`${path}.prev`, 'utf8')).toBe(foreign);
    } finally {
      redis.disconnect();
      await rm(d, { recursive: true, force: true });
    }
  });
});

import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkEntries, itemId, listFiles } from './files-source.js';

describe('files source', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gl-src-'));
    await mkdir(join(dir, 'sub'));
    for (const name of ['b.png', 'a.png', 'c.txt', 'sub/d.png']) await writeFile(join(dir, name), Buffer.alloc(10));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('lists matching files in sorted order', async () => {
    const entries = await listFiles({ kind: 'files', path: dir, glob: '**/*.png', limit: null });
    expect(entries.map((e) => e.key)).toEqual(['a.png', 'b.png', 'sub/d.png']);
  });

  it('applies the limit after sorting', async () => {
    const entries = await listFiles({ kind: 'files', path: dir, glob: '*.png', limit: 1 });
    expect(entries.map((e) => e.key)).toEqual(['a.png']);
  });

  it('refuses a missing directory with its name', async () => {
    await expect(listFiles({ kind: 'files', path: join(dir, 'nope'), glob: '*', limit: null })).rejects.toThrow(/nope is not a readable directory/);
  });

  it('chunks by count and by bytes', () => {
    const e = (size: number) => ({ key: String(size), path: '', size });
    expect(chunkEntries([e(1), e(1), e(1)], { maxItems: 2, maxBytes: 100 }).map((c) => c.length)).toEqual([2, 1]);
    expect(chunkEntries([e(60), e(60), e(200)], { maxItems: 10, maxBytes: 100 }).map((c) => c.length)).toEqual([1, 1, 1]);
  });

  it('makes deterministic ids without colons', () => {
    expect(itemId('r1', 'a.png')).toBe(itemId('r1', 'a.png'));
    expect(itemId('r1', 'a.png')).not.toBe(itemId('r2', 'a.png'));
    expect(itemId('r1', 'x:y')).not.toContain(':');
  });
});

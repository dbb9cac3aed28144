import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from './find-executable.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gridline-which-'));
  for (const dir of ['a', 'b', 'c']) await mkdir(join(tmp, dir));
  await writeFile(join(tmp, 'a', 'tool'), 'not executable\n');
  await writeFile(join(tmp, 'b', 'tool'), '#!/bin/sh\n');
  await chmod(join(tmp, 'b', 'tool'), 0o755);
  await writeFile(join(tmp, 'c', 'tool'), '#!/bin/sh\n');
  await chmod(join(tmp, 'c', 'tool'), 0o755);
  await mkdir(join(tmp, 'a', 'dir-tool'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('findExecutable', () => {
  it('returns the first executable file along PATH, skipping non-executables', async () => {
    const PATH = ['a', 'b', 'c'].map((d) => join(tmp, d)).join(delimiter);
    expect(await findExecutable('tool', { PATH })).toBe(join(tmp, 'b', 'tool'));
  });

  it('returns undefined when nothing matches, PATH is empty or unset', async () => {
    expect(await findExecutable('dir-tool', { PATH: join(tmp, 'a') })).toBeUndefined();
    expect(await findExecutable('tool', { PATH: '' })).toBeUndefined();
    expect(await findExecutable('tool', {})).toBeUndefined();
  });

  it('ignores relative PATH entries', async () => {
    expect(await findExecutable('tool', { PATH: `.${delimiter}b` })).toBeUndefined();
  });

  it('checks a path with a slash directly', async () => {
    expect(await findExecutable(join(tmp, 'b', 'tool'), {})).toBe(join(tmp, 'b', 'tool'));
    expect(await findExecutable(join(tmp, 'a', 'tool'), {})).toBeUndefined();
  });
});

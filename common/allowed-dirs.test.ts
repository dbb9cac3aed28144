import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWithinDir, judgePath, outsideMessage, parseDirList, realPathOf, resolveAllowedDirs } from './allowed-dirs.js';

const realpath = realpathSync.native;
const fs = { realpath, isDirectory: (p: string) => !p.endsWith('.txt') };

describe('allowed directories', () => {
  const root = realpath(mkdtempSync(join(tmpdir(), 'gl-allowed-')));
  const data = join(root, 'data');
  const data2 = join(root, 'data2');
  mkdirSync(join(data, 'in'), { recursive: true });
  mkdirSync(data2);
  writeFileSync(join(data2, 'secret.txt'), 'x');
  writeFileSync(join(data, 'in', 'a.png'), 'x');
  symlinkSync(data2, join(data, 'escape'));
  symlinkSync(join(data, 'in'), join(data, 'inside-link'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('accepts a path inside an allowed directory, and the directory itself', () => {
    expect(judgePath(join(data, 'in', 'a.png'), [data], '/', realpath)).toEqual({ real: join(data, 'in', 'a.png'), allowed: true });
    expect(judgePath(data, [data], '/', realpath).allowed).toBe(true);
  });

  it('refuses a `..` escape', () => {
    const verdict = judgePath(join(data, 'in', '..', '..', 'data2', 'secret.txt'), [data], '/', realpath);
    expect(verdict).toEqual({ real: join(data2, 'secret.txt'), allowed: false });
  });

  it('refuses an absolute path outside', () => {
    expect(judgePath('/etc/passwd', [data], '/', realpath).allowed).toBe(false);
  });

  it('refuses a sibling directory sharing the prefix (/data vs /data2)', () => {
    expect(isWithinDir(data, data2)).toBe(false);
    expect(judgePath(join(data2, 'secret.txt'), [data], '/', realpath).allowed).toBe(false);
    // A name that only starts with `..` is still inside.
    expect(isWithinDir(data, join(data, '..x'))).toBe(true);
  });

  it('refuses a symlink that leads outside, and says where it leads', () => {
    const path = join(data, 'escape', 'secret.txt');
    const verdict = judgePath(path, [data], '/', realpath);
    expect(verdict).toEqual({ real: join(data2, 'secret.txt'), allowed: false });
    expect(outsideMessage(path, verdict, [data], '/')).toBe(`${path} (it resolves to ${join(data2, 'secret.txt')}) is outside the allowed directories (${data})`);
    expect(judgePath(join(data, 'inside-link', 'a.png'), [data], '/', realpath).allowed).toBe(true);
  });

  it('judges a path that does not exist yet by its nearest existing ancestor', () => {
    expect(realPathOf(join(data, 'out', 'new', 'r.jsonl'), '/', realpath)).toBe(join(data, 'out', 'new', 'r.jsonl'));
    // Through a symlinked ancestor: the new file would land outside.
    expect(judgePath(join(data, 'escape', 'new', 'r.jsonl'), [data], '/', realpath)).toEqual({ real: join(data2, 'new', 'r.jsonl'), allowed: false });
  });

  it('resolves a relative path against the working directory', () => {
    expect(judgePath('in/a.png', [data], data, realpath)).toEqual({ real: join(data, 'in', 'a.png'), allowed: true });
    expect(judgePath('../data2/secret.txt', [data], data, realpath).allowed).toBe(false);
  });

  it('resolves configured directories to real paths, reporting missing ones', () => {
    const { dirs, problems } = resolveAllowedDirs([join(data, 'inside-link'), 'data', join(root, 'nope'), join(data2, 'secret.txt')], root, fs);
    expect(dirs).toEqual([join(data, 'in'), data]);
    expect(problems).toEqual([`${join(root, 'nope')} does not exist`, `${join(data2, 'secret.txt')} is not a directory`]);
  });

  it('splits a list on the path delimiter, dropping empty entries', () => {
    expect(parseDirList('/a::/b ')).toEqual(['/a', '/b']);
    expect(parseDirList(undefined)).toEqual([]);
  });
});

import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GridlineError } from '../../common/errors.js';
import { allowedOpModulePath, allowedPath, resolveFileAccess } from './file-access.js';

const root = realpathSync.native(mkdtempSync(join(tmpdir(), 'gl-access-')));
mkdirSync(join(root, 'data'));
mkdirSync(join(root, 'ops'));
mkdirSync(join(root, 'other'));
symlinkSync(join(root, 'other'), join(root, 'data', 'out'));

function thrown(fn: () => unknown): GridlineError {
  try {
    fn();
  } catch (err) {
    return err as GridlineError;
  }
  throw new Error('expected an error');
}

describe('worker file access', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('defaults to the working directory and no op-module folders', () => {
    const access = resolveFileAccess({}, join(root, 'data'));
    expect(access).toEqual({ allowedDirs: [join(root, 'data')], opModuleDirs: [], cwd: join(root, 'data') });
    expect(Object.isFrozen(access)).toBe(true);
  });

  it('refuses a configured folder that does not exist', () => {
    expect(() => resolveFileAccess({ allowedDirs: ['nope'], opModuleDirs: ['ops'] }, root)).toThrow(/--allow-dir nope does not exist/);
  });

  it('returns the real path inside, and refuses a sink below a symlink that leads outside', () => {
    const access = resolveFileAccess({ allowedDirs: ['data'] }, root);
    expect(allowedPath('data/x/r.jsonl', access, 'sink file')).toBe(join(root, 'data', 'x', 'r.jsonl'));
    const err = thrown(() => allowedPath(join(root, 'data', 'out', 'r.jsonl'), access, 'sink file'));
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.message).toContain(`sink file ${join(root, 'data', 'out', 'r.jsonl')} (it resolves to ${join(root, 'other', 'r.jsonl')}) is outside the worker's allowed directories (${join(root, 'data')})`);
    expect(err.message).toContain('--allow-dir');
  });

  it('refuses op modules when no folder is configured, naming the flag', () => {
    const err = thrown(() => allowedOpModulePath(join(root, 'ops', 'a.mjs'), resolveFileAccess({}, root)));
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.message).toMatch(/loads no custom op modules.*--op-module-dir DIR \(GRIDLINE_OP_MODULE_DIRS\)/);
  });

  it('loads op modules only from their folders, not merely from allowed directories', () => {
    const access = resolveFileAccess({ allowedDirs: [root], opModuleDirs: ['ops'] }, root);
    expect(allowedOpModulePath('ops/a.mjs', access)).toBe(join(root, 'ops', 'a.mjs'));
    const err = thrown(() => allowedOpModulePath(join(root, 'data', 'a.mjs'), access));
    expect(err.message).toContain(`op module ${join(root, 'data', 'a.mjs')} is outside the op module folders (${join(root, 'ops')})`);
  });
});

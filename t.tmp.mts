import { readFileSync } from 'node:fs';
import { parsePipeline, validatePipeline } from './common/pipeline/parse-pipeline.js';
const spec = parsePipeline(readFileSync('pipelines/ocr.yaml', 'utf8'), { sourceName: 'pipelines/ocr.yaml' });
console.log(JSON.stringify(spec.stages[0], null, 0));
console.log(JSON.stringify(spec.stages[1], null, 0));
const bad = `apiVersion: gridline/v1
kind: Pipelin
metadata: { name: Bad_Name }
spec:
  source: { kind: files, path: ./data }
  stages:
    - name: a
      type: preprocessing
      replica: 2
      ops: [ image.decod, { image.resize: { maxSide: -3, foo: 1 } }, {a: 1, b: 2}, 5 ]
      resources: { memory: 12Q, cpu: true, gpuMemory: 1Gi }
    - name: b
      type: model-serving
      model: { name: m, runtime: tfjs }
    - type: foo
  sink: { kind: jsonl, path: x }
`;
const r = validatePipeline(bad, { sourceName: 'bad.yaml' });
if (!r.ok) for (const i of r.issues) console.log(`${i.line}:${i.column} ${i.path}: ${i.message}`);
try { parsePipeline(bad.replace('Pipelin', 'Pipeline'), { sourceName: 'bad.yaml' }) } catch (e) { console.log((e as Error).message) }

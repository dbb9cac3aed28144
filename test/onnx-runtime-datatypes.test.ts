import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridlineError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { oipDatatypeOf, type OipDatatype } from '../common/oip/datatypes.js';
import { tensor, tensorBytes, type Tensor } from '../common/tensor.js';
import type { ModelRuntime } from '../services/model-serving/model-runtime.js';
import { createOnnxRuntime } from '../services/model-serving/onnx-runtime.js';
import { createThreadedOnnxRuntime } from '../services/model-serving/threaded-runtime.js';
import { identityModel, writeModelRepository } from './support/onnx-model-builder.js';

// Every dtype gridline tensors hold goes into onnxruntime and comes back unchanged, in-process and
// across the worker-thread boundary (where tensors travel as bytes).

const utf8 = (...texts: string[]): Uint8Array[] => texts.map((t) => Buffer.from(t, 'utf8'));

const TENSORS: readonly Tensor[] = [
  tensor('bool', [2, 2], new Uint8Array([1, 0, 0, 1])),
  tensor('uint8', [2, 2], new Uint8Array([0, 1, 254, 255])),
  tensor('uint16', [2, 2], new Uint16Array([0, 1, 65534, 65535])),
  tensor('uint32', [2, 2], new Uint32Array([0, 1, 2 ** 32 - 2, 2 ** 32 - 1])),
  tensor('uint64', [2, 2], new BigUint64Array([0n, 1n, 2n ** 53n + 1n, 2n ** 64n - 1n])),
  tensor('int8', [2, 2], new Int8Array([-128, -1, 0, 127])),
  tensor('int16', [2, 2], new Int16Array([-32768, -1, 0, 32767])),
  tensor('int32', [2, 2], new Int32Array([-(2 ** 31), -1, 0, 2 ** 31 - 1])),
  tensor('int64', [2, 2], new BigInt64Array([-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n])),
  tensor('float16', [2, 2], new Uint16Array([0x3c00, 0x7e01, 0x8000, 0xfc00])),
  tensor('float32', [2, 2], new Float32Array([Number.NaN, -0, Infinity, 1.401298464324817e-45])),
  tensor('float64', [2, 2], new Float64Array([Number.NaN, -0, -Infinity, Number.MAX_VALUE])),
  tensor('string', [2, 2], utf8('', 'ascii', 'naïve ☃', '\uFEFF日本語')),
];

describe('onnxruntime carries every gridline dtype exactly', () => {
  let dir: string;
  const runtimes: Record<string, { local: ModelRuntime; threaded: ModelRuntime }> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gl-ort-dtypes-'));
    const models: Record<string, Uint8Array> = {};
    for (const t of TENSORS) models[t.dtype] = identityModel({ datatype: oipDatatypeOf(t.dtype), shape: ['N', 2] });
    models['bf16'] = identityModel({ datatype: 'BF16' satisfies OipDatatype, shape: [2] });
    await writeModelRepository(dir, models);
    for (const t of TENSORS) {
      const path = join(dir, t.dtype, '1', 'model.onnx');
      runtimes[t.dtype] = {
        local: await createOnnxRuntime(path, { useGpu: false, logger: silentLogger }),
        threaded: await createThreadedOnnxRuntime(path, { useGpu: false, logger: silentLogger }),
      };
    }
  });

  afterAll(async () => {
    for (const { local, threaded } of Object.values(runtimes)) await Promise.all([local.close(), threaded.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(TENSORS.map((t) => [t.dtype, t] as const))('%s, in-process and in a worker thread', async (dtype, t) => {
    const { local, threaded } = runtimes[dtype]!;
    expect(local.inputs).toEqual([{ name: 'x', dtype, shape: [null, 2] }]);
    expect(threaded.outputs).toEqual([{ name: 'y', dtype, shape: [null, 2] }]);
    for (const runtime of [local, threaded]) {
      const y = (await runtime.run({ x: t }))['y']!;
      expect(y.dtype).toBe(dtype);
      expect(y.shape).toEqual([2, 2]);
      expect(tensorBytes(y)).toEqual(tensorBytes(t));
    }
  });

  it('refuses BYTES elements onnxruntime would change, rather than changing them', async () => {
    const bad = tensor('string', [1, 2], [Buffer.from('ok'), Buffer.from([0xff])]);
    await expect(runtimes['string']!.local.run({ x: bad })).rejects.toThrow(/BYTES element 1 is not valid UTF-8/);
    await expect(runtimes['string']!.threaded.run({ x: bad })).rejects.toThrow(/BYTES element 1 is not valid UTF-8/);
  });

  it('reports a BF16 model, which onnxruntime-node cannot load, as MODEL_LOAD_FAILED', async () => {
    const err = await createOnnxRuntime(join(dir, 'bf16', '1', 'model.onnx'), { useGpu: false, logger: silentLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GridlineError);
    expect((err as GridlineError).code).toBe('MODEL_LOAD_FAILED');
  });
});

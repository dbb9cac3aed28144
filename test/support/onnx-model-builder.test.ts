import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { OipDatatype } from '../../common/oip/datatypes.js';
import { addOneModel, identityModel, writeModelRepository } from './onnx-model-builder.js';

// The models are checked against onnxruntime itself, not through gridline's wrapper, so a
// mistake in either cannot hide one in the other.

type OrtData = ort.Tensor.DataType;

/** A datatype, its onnxruntime name, and values that exercise its edges. */
const CASES: readonly [OipDatatype, ort.Tensor.Type, OrtData][] = [
  ['BOOL', 'bool', new Uint8Array([1, 0, 1, 1])],
  ['UINT8', 'uint8', new Uint8Array([0, 1, 128, 255])],
  ['UINT16', 'uint16', new Uint16Array([0, 1, 32768, 65535])],
  ['UINT32', 'uint32', new Uint32Array([0, 1, 2 ** 31, 2 ** 32 - 1])],
  ['UINT64', 'uint64', new BigUint64Array([0n, 1n, 2n ** 63n, 2n ** 64n - 1n])],
  ['INT8', 'int8', new Int8Array([-128, -1, 0, 127])],
  ['INT16', 'int16', new Int16Array([-32768, -1, 0, 32767])],
  ['INT32', 'int32', new Int32Array([-(2 ** 31), -1, 0, 2 ** 31 - 1])],
  ['INT64', 'int64', new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n])],
  // FP16 bits: 1.0, a quiet NaN, -0, +Infinity.
  ['FP16', 'float16', new Uint16Array([0x3c00, 0x7e00, 0x8000, 0x7c00])],
  ['FP32', 'float32', new Float32Array([Number.NaN, -0, Infinity, 3.4028234663852886e38])],
  ['FP64', 'float64', new Float64Array([Number.NaN, -0, -Infinity, Number.MIN_VALUE])],
  ['BYTES', 'string', ['', 'ascii', 'naïve ☃', '日本語']],
];

/** Compared as bytes, so NaN, -0 and FP16 bits count exactly. */
function bytesOf(v: ArrayBufferView): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

describe('onnx-model-builder', () => {
  it.each(CASES)('identity %s returns its input exactly, with its declared type and shape', async (datatype, type, data) => {
    const session = await ort.InferenceSession.create(identityModel({ datatype, shape: ['N', 2] }));
    try {
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['y']);
      expect(session.inputMetadata[0]).toMatchObject({ isTensor: true, type, shape: ['N', 2] });
      const out = await session.run({ x: new ort.Tensor(type, data, [2, 2]) });
      const y = out['y']!;
      expect(y.type).toBe(type);
      expect(y.dims).toEqual([2, 2]);
      if (type === 'string') expect(y.data).toEqual(data);
      else expect(bytesOf(y.data as ArrayBufferView)).toEqual(bytesOf(data as ArrayBufferView));
    } finally {
      await session.release();
    }
  });

  it('writes fixed, symbolic and unknown dimensions, custom names and several outputs', async () => {
    const session = await ort.InferenceSession.create(identityModel({ datatype: 'INT32', shape: [1, 'batch', null], input: 'in', output: ['a', 'b'] }));
    try {
      expect(session.inputNames).toEqual(['in']);
      expect(session.outputNames).toEqual(['a', 'b']);
      // onnxruntime reports a dimension with neither size nor name as ''.
      expect(session.inputMetadata[0]).toMatchObject({ shape: [1, 'batch', ''] });
      const out = await session.run({ in: new ort.Tensor('int32', new Int32Array([7, 8, 9]), [1, 1, 3]) });
      expect([...(out['a']!.data as Int32Array)]).toEqual([7, 8, 9]);
      expect([...(out['b']!.data as Int32Array)]).toEqual([7, 8, 9]);
    } finally {
      await session.release();
    }
  });

  it('addOneModel adds one', async () => {
    const session = await ort.InferenceSession.create(addOneModel({ shape: ['N', 3] }));
    try {
      const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([0, 1.5, -2, 10, 0, 0]), [2, 3]) });
      expect([...(out['y']!.data as Float32Array)]).toEqual([1, 2.5, -1, 11, 1, 1]);
    } finally {
      await session.release();
    }
  });

  it('writeModelRepository lays out <dir>/<name>/1/model.onnx', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gl-builder-'));
    try {
      const model = identityModel({ datatype: 'FP32', shape: [1] });
      await writeModelRepository(dir, { a: model, b: addOneModel({ shape: [1] }) });
      expect(new Uint8Array(await readFile(join(dir, 'a', '1', 'model.onnx')))).toEqual(model);
      const session = await ort.InferenceSession.create(join(dir, 'b', '1', 'model.onnx'));
      await session.release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../tensor.js';
import { decodeRestResponse, encodeRestRequest } from './rest-client-codec.js';
import { decodeRestRequest, encodeRestResponse } from './rest-codec.js';

const TENSORS: Record<string, Tensor> = {
  f32: tensor('float32', [2, 3], new Float32Array([1.5, -0, NaN, Infinity, -Infinity, 3e-38])),
  i64: tensor('int64', [2], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])),
  u8: tensor('uint8', [1, 4], new Uint8Array([0, 1, 254, 255])),
  b: tensor('bool', [3], new Uint8Array([1, 0, 1])),
};

function sameBytes(a: Tensor, b: Tensor): void {
  expect(b.dtype).toBe(a.dtype);
  expect(b.shape).toEqual(a.shape);
  const bytes = (t: Tensor): Buffer => {
    const d = t.data as ArrayBufferView;
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  };
  expect(bytes(b).equals(bytes(a))).toBe(true);
}

describe('the REST client codec against the server codec', () => {
  it('a binary request decodes on the server to the same tensors, with binary outputs asked for', () => {
    const inputs = Object.entries(TENSORS).map(([name, t]) => ({ name, tensor: t }));
    const { body, headerLength } = encodeRestRequest(inputs, { id: 'r1', outputs: ['y'] });
    const decoded = decodeRestRequest(body, headerLength);
    expect(decoded.id).toBe('r1');
    expect(decoded.outputs).toEqual([{ name: 'y', binary: true, parameters: {} }]);
    decoded.inputs.forEach((input, i) => {
      expect(input.name).toBe(inputs[i]!.name);
      sameBytes(inputs[i]!.tensor, input.tensor);
    });
  });

  it('binary and JSON responses decode back exactly', () => {
    const outputs = Object.entries(TENSORS).map(([name, t]) => ({ name, tensor: t }));
    for (const binaryOutputs of ['all', 'none'] as const) {
      const encoded = encodeRestResponse({ modelName: 'm', modelVersion: '2', id: 'x', outputs }, { binaryOutputs });
      const response = decodeRestResponse(encoded.body, encoded.headerLength);
      expect(response).toMatchObject({ modelName: 'm', modelVersion: '2', id: 'x' });
      response.outputs.forEach((o, i) => sameBytes(outputs[i]!.tensor, o.tensor));
    }
  });

  it('names the field when a response does not add up', () => {
    const encoded = encodeRestResponse({ modelName: 'm', outputs: [{ name: 'f32', tensor: TENSORS.f32! }] }, { binaryOutputs: 'all' });
    expect(() => decodeRestResponse(encoded.body.subarray(0, encoded.body.length - 4), encoded.headerLength)).toThrow(/outputs\[0\]\.parameters\.binary_data_size/);
    expect(() => decodeRestResponse(Buffer.from('{"outputs": 3}'), null)).toThrow(/outputs: must be an array/);
    expect(() => decodeRestResponse(Buffer.from('nope'), null)).toThrow(/not valid JSON/);
  });
});

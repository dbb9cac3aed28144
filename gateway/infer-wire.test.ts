import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRestJsonRequest } from '../common/oip/rest-codec.js';
import { GridlineError } from '../common/errors.js';
import { loadInferenceProto } from '../proto/load-inference-proto.js';
import { deserializeInferResponse, fromModelInferResponse, readModelRef, serializeInferRequest, toModelInferRequest } from './infer-wire.js';

const service = loadInferenceProto().inference.GRPCInferenceService.service;

describe('readModelRef', () => {
  it('reads model_name and model_version past inputs and raw contents of any size', () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.string(), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 5 }), (name, version, id, raw, n) => {
      const bytes = serializeInferRequest({
        id, modelName: name, modelVersion: version,
        parameters: { p: { int64Param: '-5' }, q: { doubleParam: 1.5 } },
        inputs: Array.from({ length: n }, (_, i) => ({ name: `i${i}`, datatype: 'UINT8', shape: [raw.length] })),
        rawInputContents: Array.from({ length: n }, () => raw),
      });
      expect(readModelRef(bytes)).toEqual({ modelName: name, modelVersion: version });
    }));
  });

  it('rejects a truncated message', () => {
    const bytes = serializeInferRequest({ modelName: 'add_one', rawInputContents: [Buffer.alloc(100)] });
    expect(() => readModelRef(bytes.subarray(0, bytes.length - 10))).toThrow(GridlineError);
    expect(readModelRef(Buffer.alloc(0))).toEqual({ modelName: '', modelVersion: '' });
  });
});

describe('REST ↔ ModelInfer translation', () => {
  it('sends inputs as raw bytes with parameters, and reads a raw response back', () => {
    const request = decodeRestJsonRequest({
      id: 'r', parameters: { priority: 2, tag: 'a' },
      inputs: [{ name: 'x', shape: [2], datatype: 'INT64', data: [1, -2], parameters: { note: true } }],
      outputs: [{ name: 'y', parameters: { binary_data: true, top_k: 3 } }],
    });
    const bytes = serializeInferRequest(toModelInferRequest('m', '3', request));
    const decoded = service.ModelInfer.requestDeserialize(bytes) as unknown as Record<string, unknown>;
    expect(decoded).toMatchObject({
      modelName: 'm', modelVersion: '3', id: 'r',
      parameters: { priority: { int64Param: '2' }, tag: { stringParam: 'a' } },
      inputs: [{ name: 'x', datatype: 'INT64', shape: ['2'], parameters: { note: { boolParam: true } } }],
      outputs: [{ name: 'y', parameters: { top_k: { int64Param: '3' } } }],
    });
    expect([...new BigInt64Array(new Uint8Array((decoded['rawInputContents'] as Buffer[])[0]!).buffer)]).toEqual([1n, -2n]);

    const response = service.ModelInfer.responseSerialize({
      modelName: 'm', modelVersion: '3', id: 'r', parameters: { replica: { stringParam: 'a' } },
      outputs: [{ name: 'y', datatype: 'FP64', shape: [1] }], rawOutputContents: [Buffer.from(new Float64Array([0.1]).buffer)],
    });
    const back = fromModelInferResponse(deserializeInferResponse(response));
    expect(back).toMatchObject({ modelName: 'm', modelVersion: '3', id: 'r', parameters: { replica: 'a' } });
    expect([...back.outputs[0]!.tensor.data]).toEqual([0.1]);
  });

  it('calls a response it cannot read INTERNAL', () => {
    const response = service.ModelInfer.responseSerialize({ modelName: 'm', outputs: [{ name: 'y', datatype: 'FP32', shape: [2] }], rawOutputContents: [Buffer.alloc(4)] });
    expect(() => fromModelInferResponse(deserializeInferResponse(response))).toThrow(/INTERNAL|cannot be read: raw_output_contents\[0\]/);
    try {
      fromModelInferResponse(deserializeInferResponse(response));
    } catch (err) {
      expect((err as GridlineError).code).toBe('INTERNAL');
    }
  });
});

import { describe, expect, it } from 'vitest';
import type { InferRequest } from '../../common/oip/infer-messages.js';
import { expectOipError } from '../../common/oip/expect-oip-error.js';
import { tensor, zeros, type DType } from '../../common/tensor.js';
import { checkInferRequest, metadataShape, type ModelSignature } from './check-infer-request.js';
import { warmUpFeeds } from './served-model.js';

// A model like Silero VAD: a batched input, a scalar-ish one of unknown shape, two outputs.
const SIGNATURE: ModelSignature = {
  inputs: [
    { name: 'input', dtype: 'float32', shape: [null, 512] },
    { name: 'sr', dtype: 'int64', shape: null },
  ],
  outputs: [
    { name: 'output', dtype: 'float32', shape: [null, 1] },
    { name: 'stateN', dtype: 'float32', shape: [2, null, 128] },
  ],
};

function request(inputs: [string, DType, number[]][], outputs: string[] = []): InferRequest {
  return {
    id: '',
    parameters: {},
    inputs: inputs.map(([name, dtype, shape]) => ({ name, tensor: zeros(dtype, shape), parameters: {} })),
    outputs: outputs.map((name) => ({ name, binary: true, parameters: {} })),
    binaryOutputsByDefault: true,
  };
}

describe('checkInferRequest', () => {
  it('accepts inputs in any order, and answers every output unless some are named', () => {
    const checked = checkInferRequest(SIGNATURE, request([['sr', 'int64', []], ['input', 'float32', [3, 512]]]));
    expect(Object.keys(checked.feeds).sort()).toEqual(['input', 'sr']);
    expect(checked.outputs).toEqual(['output', 'stateN']);
    expect(checkInferRequest(SIGNATURE, request([['input', 'float32', [1, 512]], ['sr', 'int64', [1]]], ['stateN'])).outputs).toEqual(['stateN']);
  });

  it('names the field of each problem', () => {
    expectOipError(() => checkInferRequest(SIGNATURE, request([['audio', 'float32', [1, 512]]])), 'inputs[0].name', /"audio".*input, sr/);
    expectOipError(() => checkInferRequest(SIGNATURE, request([['sr', 'int64', []], ['input', 'float64', [1, 512]]])), 'inputs[1].datatype', /FP64.*FP32/);
    expectOipError(() => checkInferRequest(SIGNATURE, request([['input', 'float32', [1, 256]]])), 'inputs[0].shape', /\[1,256\].*\[-1,512\]/);
    expectOipError(() => checkInferRequest(SIGNATURE, request([['input', 'float32', [512]]])), 'inputs[0].shape');
    expectOipError(() => checkInferRequest(SIGNATURE, request([['input', 'float32', [1, 512]]])), 'inputs', /missing "sr" INT64\[\]/);
    expectOipError(() => checkInferRequest(SIGNATURE, request([['input', 'float32', [1, 512]], ['sr', 'int64', []]], ['output', 'h'])), 'outputs[1].name', /"h"/);
  });

  it('refuses BYTES elements onnxruntime would change: not UTF-8, or holding a NUL', () => {
    const signature: ModelSignature = { inputs: [{ name: 'text', dtype: 'string', shape: [null] }], outputs: [{ name: 'y', dtype: 'string', shape: [null] }] };
    const withText = (...elements: Uint8Array[]): InferRequest => ({
      ...request([]), inputs: [{ name: 'text', tensor: tensor('string', [elements.length], elements), parameters: {} }],
    });
    expect(checkInferRequest(signature, withText(Buffer.from(''), Buffer.from('naïve ☃'))).outputs).toEqual(['y']);
    expectOipError(() => checkInferRequest(signature, withText(Buffer.from('ok'), Buffer.from([0xc3]))), 'inputs[0]', /BYTES element 1 is not valid UTF-8.*"text"/);
    expectOipError(() => checkInferRequest(signature, withText(Buffer.from('a\0b'))), 'inputs[0]', /BYTES element 0 holds a NUL byte/);
  });

  it('reports variable dimensions as -1 in metadata', () => {
    expect(metadataShape(SIGNATURE.inputs[0]!)).toEqual([-1, 512]);
    expect(metadataShape(SIGNATURE.inputs[1]!)).toEqual([]);
  });
});

describe('warmUpFeeds', () => {
  it('fills zeros of the smallest valid shape, or the configured one', () => {
    const feeds = warmUpFeeds(SIGNATURE);
    expect(feeds['input']!.shape).toEqual([1, 512]);
    expect(feeds['input']!.data.every((v) => v === 0)).toBe(true);
    expect(feeds['sr']!.shape).toEqual([]);
    expect(warmUpFeeds(SIGNATURE, { sr: [1] })['sr']!.shape).toEqual([1]);
  });

  it('refuses an input whose type gridline cannot hold', () => {
    expect(() => warmUpFeeds({ inputs: [{ name: 'text', dtype: null, shape: [1] }] })).toThrow(/text/);
  });
});

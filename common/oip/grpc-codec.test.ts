import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelInferRequest, ModelInferRequest__Output } from '../../proto/generated/inference/ModelInferRequest.js';
import type { InferTensorContents } from '../../proto/generated/inference/InferTensorContents.js';
import type { ModelInferResponse } from '../../proto/generated/inference/ModelInferResponse.js';
import { loadInferenceProto } from '../../proto/load-inference-proto.js';
import { tensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { expectOipError } from './expect-oip-error.js';
import { decodeGrpcRequest, encodeGrpcResponse } from './grpc-codec.js';
import type { GrpcInferRequest } from './grpc-codec.js';
import { DTYPES, VALUE_DTYPES, anyTensorArb, anyValueTensorArb, rawBitsTensorArb, tensorArb, tensorDifference } from './tensor-arbitraries.js';

// The real wire: every message goes through protobuf encoding and the loader's options.
const { ModelInfer } = loadInferenceProto().inference.GRPCInferenceService.service;

function overTheWire(request: ModelInferRequest): ModelInferRequest__Output {
  return ModelInfer.requestDeserialize(ModelInfer.requestSerialize(request));
}

/** Encodes the tensors as a response, then sends them back as a request with raw contents. */
function rawRoundTrip(tensors: readonly Tensor[]): GrpcInferRequest {
  const encoded = encodeGrpcResponse({ modelName: 'm', modelVersion: '1', id: 'r', outputs: tensors.map((t, i) => ({ name: `t${i}`, tensor: t })) });
  const response = ModelInfer.responseDeserialize(ModelInfer.responseSerialize(encoded));
  expect(response.outputs.every((o) => o.contents === null)).toBe(true);
  return decodeGrpcRequest(overTheWire({
    modelName: response.modelName,
    id: response.id,
    inputs: response.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
    rawInputContents: response.rawOutputContents,
  }));
}

/** The typed `contents` a client would send for a tensor. */
function contentsOf(t: Tensor): InferTensorContents {
  const values = Array.from(t.data as ArrayLike<number | bigint>);
  switch (t.dtype) {
    case 'bool': return { boolContents: values.map((v) => v !== 0) };
    case 'int8': case 'int16': case 'int32': return { intContents: values as number[] };
    case 'uint8': case 'uint16': case 'uint32': return { uintContents: values as number[] };
    case 'int64': return { int64Contents: values.map(String) };
    case 'uint64': return { uint64Contents: values.map(String) };
    case 'float32': return { fp32Contents: values as number[] };
    case 'float64': return { fp64Contents: values as number[] };
    case 'string': return { bytesContents: [...(t.data as readonly Uint8Array[])].map((e) => Buffer.from(e)) };
    case 'float16': throw new Error('FP16 has no contents field');
  }
}

function typedRoundTrip(tensors: readonly Tensor[]): GrpcInferRequest {
  return decodeGrpcRequest(overTheWire({
    modelName: 'm',
    inputs: tensors.map((t, i) => ({ name: `t${i}`, datatype: oipDatatypeOf(t.dtype), shape: [...t.shape], contents: contentsOf(t) })),
  }));
}

function expectSame(request: GrpcInferRequest, tensors: readonly Tensor[], bitExact: boolean): void {
  expect(request.inputs.map((i) => i.name)).toEqual(tensors.map((_, i) => `t${i}`));
  request.inputs.forEach((input, i) => expect(tensorDifference(input.tensor, tensors[i]!, bitExact)).toBeNull());
}

describe('gRPC round trip: decode(encode(x)) is x', () => {
  it.each(DTYPES)('%s as raw contents', (dtype) => {
    fc.assert(fc.property(tensorArb(dtype), (t) => expectSame(rawRoundTrip([t]), [t], true)), { numRuns: 150 });
  });

  it.each(VALUE_DTYPES)('%s as typed contents', (dtype) => {
    fc.assert(fc.property(tensorArb(dtype), (t) => expectSame(typedRoundTrip([t]), [t], false)), { numRuns: 150 });
  });

  it.each(['float16', 'float32', 'float64', 'string'] as const)('%s bit patterns (bytes that are not UTF-8) as raw contents, byte for byte', (dtype) => {
    fc.assert(fc.property(rawBitsTensorArb(dtype), (t) => expectSame(rawRoundTrip([t]), [t], true)), { numRuns: 200 });
  });

  it('several tensors of mixed datatypes', () => {
    fc.assert(fc.property(fc.array(anyTensorArb, { minLength: 1, maxLength: 5 }), (tensors) => expectSame(rawRoundTrip(tensors), tensors, true)), { numRuns: 200 });
    fc.assert(fc.property(fc.array(anyValueTensorArb, { minLength: 1, maxLength: 5 }), (tensors) => expectSame(typedRoundTrip(tensors), tensors, false)), { numRuns: 200 });
  });

  it('keeps the edge values: NaN, infinities, -0, 64-bit extremes, empty tensors and scalars', () => {
    const tensors = [
      tensor('float32', [5], new Float32Array([Number.NaN, Infinity, -Infinity, -0, 3.4028234663852886e38])),
      tensor('float64', [2, 2], new Float64Array([Number.NaN, -Infinity, -0, Number.MIN_VALUE])),
      tensor('int64', [4], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -1n])),
      tensor('uint64', [2], new BigUint64Array([0n, 2n ** 64n - 1n])),
      tensor('int8', [2], new Int8Array([-128, 127])),
      tensor('int32', [0, 3], new Int32Array(0)),
      tensor('bool', [2, 0], new Uint8Array(0)),
      tensor('uint16', [], new Uint16Array([65535])),
      tensor('string', [3], ['', 'naïve ☃', '\u0000'].map((v) => Buffer.from(v))),
    ];
    expectSame(rawRoundTrip(tensors), tensors, true);
    expectSame(typedRoundTrip(tensors), tensors, false);
    const half = tensor('float16', [2], new Uint16Array([0x7e01, 0x8000]));
    expectSame(rawRoundTrip([half]), [half], true);
  });
});

describe('decodeGrpcRequest', () => {
  it('reads model, id, parameters and requested outputs', () => {
    const request = decodeGrpcRequest(overTheWire({
      modelName: 'resnet', modelVersion: '3', id: 'abc',
      parameters: {
        small: { int64Param: 5 }, big: { int64Param: '-9223372036854775808' }, huge: { uint64Param: '18446744073709551615' },
        ratio: { doubleParam: 0.5 }, flag: { boolParam: false }, s: { stringParam: 'x' },
      },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32Contents: [2] } }],
      outputs: [{ name: 'y', parameters: { top_k: { int64Param: 3 } } }],
    }));
    expect(request).toMatchObject({ modelName: 'resnet', modelVersion: '3', id: 'abc', binaryOutputsByDefault: true });
    expect(request.parameters).toEqual({ small: 5, big: -(2n ** 63n), huge: 2n ** 64n - 1n, ratio: 0.5, flag: false, s: 'x' });
    expect(request.outputs).toEqual([{ name: 'y', binary: true, parameters: { top_k: 3 } }]);
  });

  it('accepts a request built by hand, without the loader defaults', () => {
    const request = decodeGrpcRequest({ inputs: [{ name: 'x', datatype: 'INT64', shape: [2], contents: { int64Contents: ['1', 2] } }] } as unknown as ModelInferRequest__Output);
    expect(Array.from(request.inputs[0]!.tensor.data as ArrayLike<unknown>)).toEqual([1n, 2n]);
    expect(request.id).toBe('');
  });
});

describe('encodeGrpcResponse', () => {
  it('sends every output as raw contents, shapes and parameters as protobuf wants them', () => {
    const t = tensor('int32', [1, 2], new Int32Array([1, -1]));
    const encoded: ModelInferResponse = encodeGrpcResponse({ modelName: 'm', parameters: { n: 2, r: 0.5, big: 2n ** 63n }, outputs: [{ name: 'y', tensor: t }] });
    const response = ModelInfer.responseDeserialize(ModelInfer.responseSerialize(encoded));
    expect(response).toMatchObject({
      modelName: 'm', modelVersion: '', id: '',
      parameters: {
        n: { int64Param: '2', parameterChoice: 'int64Param' },
        r: { doubleParam: 0.5, parameterChoice: 'doubleParam' },
        big: { uint64Param: '9223372036854775808', parameterChoice: 'uint64Param' },
      },
      outputs: [{ name: 'y', datatype: 'INT32', shape: ['1', '2'], contents: null }],
    });
    expect(response.rawOutputContents).toEqual([Buffer.from([1, 0, 0, 0, 255, 255, 255, 255])]);
  });
});

describe('decodeGrpcRequest rejects, naming the field', () => {
  const x = { name: 'x', datatype: 'FP32', shape: [2], contents: { fp32Contents: [1, 2] } };
  const wire = (request: ModelInferRequest) => () => decodeGrpcRequest(overTheWire(request));
  const raw4 = Buffer.alloc(8);

  it.each([
    ['an input without a name', wire({ inputs: [{ ...x, name: '' }] }), 'inputs[0].name', /required/],
    ['a duplicate input name', wire({ inputs: [x, x] }), 'inputs[1].name', /also the name of inputs\[0\]/],
    ['a missing datatype', wire({ inputs: [{ ...x, datatype: '' }] }), 'inputs[0].datatype', /required/],
    ['BF16', wire({ inputs: [{ ...x, datatype: 'BF16' }] }), 'inputs[0].datatype', /BF16 is not supported/],
    ['FP16 as typed contents', wire({ inputs: [{ ...x, datatype: 'FP16', contents: null }] }), 'inputs[0].contents', /FP16 has no contents field; send its data in raw_input_contents/],
    ['FP16 values in fp32_contents', wire({ inputs: [{ ...x, datatype: 'FP16' }] }), 'inputs[0].contents.fp32_contents', /does not fit datatype FP16; its values go in raw_input_contents/],
    ['BYTES in the wrong field', wire({ inputs: [{ ...x, datatype: 'BYTES' }] }), 'inputs[0].contents.fp32_contents', /its values go in bytes_contents/],
    ['BYTES raw contents that do not add up', wire({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1] }], rawInputContents: [Buffer.from([5, 0, 0, 0, 1])] }), 'raw_input_contents[0]', /element 0: its length 5 runs past the end/],
    ['a variable dimension', wire({ inputs: [{ ...x, shape: [-1] }] }), 'inputs[0].shape[0]', /non-negative integer.*got "-1"/],
    ['an unsafe dimension', wire({ inputs: [{ ...x, shape: ['9007199254740993'] }] }), 'inputs[0].shape[0]', /below 2\^53/],
    ['raw contents for some inputs only', wire({ inputs: [x, { ...x, name: 'y', contents: null }], rawInputContents: [raw4] }), 'raw_input_contents', /holds 1 entries for 2 inputs/],
    ['raw contents of the wrong size', wire({ inputs: [{ ...x, contents: null }], rawInputContents: [Buffer.alloc(7)] }), 'raw_input_contents[0]', /holds 7 bytes, FP32 shape \[2\] needs 8/],
    ['typed contents besides raw contents', wire({ inputs: [x], rawInputContents: [raw4] }), 'inputs[0].contents.fp32_contents', /must be empty when raw_input_contents carries the data/],
    ['a raw BOOL byte other than 0 or 1', wire({ inputs: [{ name: 'b', datatype: 'BOOL', shape: [2] }], rawInputContents: [Buffer.from([1, 5])] }), 'raw_input_contents[0]', /BOOL element 1 is byte 5/],
    ['contents of the wrong field', wire({ inputs: [{ ...x, datatype: 'INT32' }] }), 'inputs[0].contents.fp32_contents', /does not fit datatype INT32; its values go in int_contents/],
    ['too few values', wire({ inputs: [{ ...x, shape: [3] }] }), 'inputs[0].contents.fp32_contents', /holds 2 values, FP32 shape \[3\] needs 3/],
    ['no data at all', wire({ inputs: [{ ...x, contents: null }] }), 'inputs[0].contents.fp32_contents', /holds 0 values/],
    ['an INT8 value out of range', wire({ inputs: [{ name: 'i', datatype: 'INT8', shape: [2], contents: { intContents: [1, 200] } }] }), 'inputs[0].contents.int_contents[1]', /200 is out of range for INT8 \(-128\.\.127\)/],
    ['a UINT16 value out of range', wire({ inputs: [{ name: 'u', datatype: 'UINT16', shape: [1], contents: { uintContents: [70000] } }] }), 'inputs[0].contents.uint_contents[0]', /out of range for UINT16/],
    ['a duplicate output name', wire({ inputs: [], outputs: [{ name: 'y' }, { name: 'y' }] }), 'outputs[1].name', /also the name of outputs\[0\]/],
    ['an empty parameter', wire({ inputs: [], parameters: { p: {} } }), 'parameters.p', /holds no value/],
    ['shared memory', wire({ inputs: [{ ...x, parameters: { shared_memory_region: { stringParam: 'r' } } }] }), 'inputs[0].parameters.shared_memory_region', /not supported/],
    ['a request that is not a message', () => decodeGrpcRequest(null as unknown as ModelInferRequest__Output), 'request', /got null/],
    ['inputs that are not a list', () => decodeGrpcRequest({ inputs: 5 } as unknown as ModelInferRequest__Output), 'inputs', /must be a list/],
    ['raw contents that are not bytes', () => decodeGrpcRequest({ inputs: [{ ...x, contents: null }], rawInputContents: ['AAAA'] } as unknown as ModelInferRequest__Output), 'raw_input_contents[0]', /must be bytes/],
  ])('%s', (_, run, field, pattern) => expectOipError(run, field, pattern));

  it('more elements than the limit: PAYLOAD_TOO_LARGE', () => {
    expectOipError(
      () => decodeGrpcRequest(overTheWire({ inputs: [{ ...x, shape: [1000, 1000, 1000] }] })),
      'inputs[0].shape', /holds 1000000000 elements, above the limit of 268435456/, 'PAYLOAD_TOO_LARGE',
    );
  });
});

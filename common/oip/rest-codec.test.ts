import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { expectOipError } from './expect-oip-error.js';
import type { InferRequest, InferResponse } from './infer-messages.js';
import { decodeRestJsonRequest, decodeRestRequest, encodeRestResponse, restBinaryOutputs } from './rest-codec.js';
import type { BinaryOutputs } from './rest-codec.js';
import { DTYPES, VALUE_DTYPES, anyValueTensorArb, rawBitsTensorArb, tensorArb, tensorDifference } from './tensor-arbitraries.js';

function responseOf(tensors: readonly Tensor[]): InferResponse {
  return { modelName: 'm', modelVersion: '1', id: 'req-1', outputs: tensors.map((t, i) => ({ name: `t${i}`, tensor: t })) };
}

/**
 * Sends a response's tensors back as a request: the encoder writes `outputs` last and the test
 * names are plain, so renaming that key turns the response header into a request header.
 */
function roundTrip(tensors: readonly Tensor[], binaryOutputs: BinaryOutputs): InferRequest {
  const encoded = encodeRestResponse(responseOf(tensors), { binaryOutputs });
  const end = encoded.headerLength ?? encoded.body.length;
  const header = Buffer.from(encoded.body.subarray(0, end).toString('utf8').replace('"outputs":[', '"inputs":['), 'utf8');
  const body = Buffer.concat([header, encoded.body.subarray(end)]);
  const request = decodeRestRequest(body, encoded.headerLength === null ? null : header.length);
  if (encoded.headerLength === null) {
    // JSON.parse keeps -0, so the already-parsed entry point must give the same tensors.
    const again = decodeRestJsonRequest(JSON.parse(header.toString('utf8')));
    again.inputs.forEach((input, i) => expect(tensorDifference(input.tensor, request.inputs[i]!.tensor, false)).toBeNull());
  }
  return request;
}

function expectSame(request: InferRequest, tensors: readonly Tensor[], bitExact: boolean): void {
  expect(request.inputs.map((i) => i.name)).toEqual(tensors.map((_, i) => `t${i}`));
  request.inputs.forEach((input, i) => expect(tensorDifference(input.tensor, tensors[i]!, bitExact)).toBeNull());
}

describe('REST round trip: decode(encode(x)) is x', () => {
  it.each(VALUE_DTYPES)('%s as JSON', (dtype) => {
    fc.assert(fc.property(tensorArb(dtype), (t) => {
      expect(encodeRestResponse(responseOf([t]), { binaryOutputs: 'none' }).headerLength).toBeNull();
      expectSame(roundTrip([t], 'none'), [t], false);
    }), { numRuns: 150 });
  });

  it.each(DTYPES)('%s as binary data', (dtype) => {
    fc.assert(fc.property(tensorArb(dtype), (t) => expectSame(roundTrip([t], 'all'), [t], true)), { numRuns: 150 });
  });

  it.each(['float16', 'float32', 'float64', 'string'] as const)('%s bit patterns (NaN payloads, -0, infinities; bytes that are not UTF-8) as binary data, byte for byte', (dtype) => {
    fc.assert(fc.property(rawBitsTensorArb(dtype), (t) => expectSame(roundTrip([t], 'all'), [t], true)), { numRuns: 200 });
  });

  it('several tensors of mixed datatypes, some JSON and some binary', () => {
    const arb = fc.array(anyValueTensorArb, { minLength: 1, maxLength: 5 }).chain((tensors) =>
      fc.tuple(fc.constant(tensors), fc.subarray(tensors.map((_, i) => `t${i}`))));
    fc.assert(fc.property(arb, ([tensors, binary]) => {
      const encoded = encodeRestResponse(responseOf(tensors), { binaryOutputs: new Set(binary) });
      expect(encoded.headerLength === null).toBe(binary.length === 0);
      expectSame(roundTrip(tensors, new Set(binary)), tensors, false);
    }), { numRuns: 300 });
  });

  it('keeps the edge values: NaN, infinities, -0, 64-bit extremes, empty tensors and scalars', () => {
    const tensors = [
      tensor('float32', [5], new Float32Array([Number.NaN, Infinity, -Infinity, -0, 3.4028234663852886e38])),
      tensor('float64', [2, 2], new Float64Array([Number.NaN, -Infinity, -0, Number.MIN_VALUE])),
      tensor('int64', [4], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n) + 1n])),
      tensor('uint64', [2], new BigUint64Array([0n, 2n ** 64n - 1n])),
      tensor('int32', [0, 3], new Int32Array(0)),
      tensor('bool', [2, 0], new Uint8Array(0)),
      tensor('uint8', [], new Uint8Array([255])),
      tensor('string', [2, 2], ['', 'naïve ☃', '\u0000', '\uFEFF'].map((t) => Buffer.from(t))),
      tensor('string', [0], []),
    ];
    for (const binary of ['none', 'all'] as const) expectSame(roundTrip(tensors, binary), tensors, binary === 'all');
  });

  it('keeps FP16 bits as binary data', () => {
    const t = tensor('float16', [2, 2], new Uint16Array([0x3c00, 0x7e01, 0x8000, 0xfc00]));
    expectSame(roundTrip([t], 'all'), [t], true);
  });
});

describe('encodeRestResponse', () => {
  it('writes the OIP response with values JSON cannot carry as numbers as strings', () => {
    const encoded = encodeRestResponse({
      modelName: 'resnet', modelVersion: '2', id: 'abc', parameters: { big: 2n ** 60n, n: 3 },
      outputs: [
        { name: 'f', tensor: tensor('float32', [1, 4], new Float32Array([1.5, Number.NaN, -Infinity, -0])) },
        { name: 'i', tensor: tensor('int64', [2], new BigInt64Array([7n, 2n ** 62n])) },
        { name: 'b', tensor: tensor('bool', [2], new Uint8Array([1, 0])) },
      ],
    }, { binaryOutputs: 'none' });
    expect(encoded.contentType).toBe('application/json');
    expect(encoded.body.toString()).toBe(
      '{"model_name":"resnet","model_version":"2","id":"abc","parameters":{"big":"1152921504606846976","n":3},"outputs":[' +
      '{"name":"f","datatype":"FP32","shape":[1,4],"data":[1.5,"NaN","-Infinity",-0]},' +
      '{"name":"i","datatype":"INT64","shape":[2],"data":[7,"4611686018427387904"]},' +
      '{"name":"b","datatype":"BOOL","shape":[2],"data":[true,false]}]}',
    );
  });

  it('puts binary outputs after the header, announced by binary_data_size', () => {
    const f = tensor('float32', [2], new Float32Array([1, 2]));
    const encoded = encodeRestResponse({ modelName: 'm', outputs: [{ name: 'a', tensor: f }, { name: 'b', tensor: f }] }, { binaryOutputs: new Set(['b']) });
    expect(encoded.contentType).toBe('application/octet-stream');
    const header = JSON.parse(encoded.body.subarray(0, encoded.headerLength!).toString()) as { outputs: unknown[] };
    expect(header.outputs).toEqual([
      { name: 'a', datatype: 'FP32', shape: [2], data: [1, 2] },
      { name: 'b', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
    ]);
    expect(encoded.body.subarray(encoded.headerLength!)).toEqual(Buffer.from((f.data as Float32Array).buffer));
  });

  it('writes BYTES as JSON strings, and as length-prefixed binary data', () => {
    const b = tensor('string', [2], [Buffer.from('hé'), Buffer.from('')]);
    const json = encodeRestResponse({ modelName: 'm', outputs: [{ name: 's', tensor: b }] }, { binaryOutputs: 'none' });
    expect(json.body.toString()).toBe('{"model_name":"m","outputs":[{"name":"s","datatype":"BYTES","shape":[2],"data":["hé",""]}]}');
    const binary = encodeRestResponse({ modelName: 'm', outputs: [{ name: 's', tensor: b }] }, { binaryOutputs: 'all' });
    expect(binary.body.subarray(binary.headerLength!)).toEqual(Buffer.from([3, 0, 0, 0, 0x68, 0xc3, 0xa9, 0, 0, 0, 0]));
    expect(JSON.parse(binary.body.subarray(0, binary.headerLength!).toString())).toMatchObject({ outputs: [{ parameters: { binary_data_size: 11 } }] });
  });

  it('refuses FP16, and BYTES that are not UTF-8, as JSON, telling the client to ask for binary data', () => {
    const h = tensor('float16', [1], new Uint16Array([0x3c00]));
    expectOipError(() => encodeRestResponse({ modelName: 'm', outputs: [{ name: 'h', tensor: h }] }, { binaryOutputs: 'none' }), 'output "h"', /FP16, which JSON cannot carry; ask for it as binary data/);
    const b = tensor('string', [2], [Buffer.from('ok'), Buffer.from([0xff])]);
    expectOipError(() => encodeRestResponse({ modelName: 'm', outputs: [{ name: 'b', tensor: b }] }, { binaryOutputs: 'none' }), 'output "b"', /BYTES element 1 is not valid UTF-8/);
  });
});

describe('decodeRestRequest', () => {
  it('reads a Triton-style request: nested data, binary inputs, per-output binary choices', () => {
    const header = Buffer.from(JSON.stringify({
      id: '42',
      parameters: { binary_data_output: true, priority: 1 },
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [2, 2], data: [[1, '9007199254740993'], [3, -4]] },
        { name: 'pixels', datatype: 'UINT8', shape: [3], parameters: { binary_data_size: 3, layout: 'hwc' } },
      ],
      outputs: [{ name: 'logits', parameters: { binary_data: false } }, { name: 'boxes' }],
    }));
    const request = decodeRestRequest(Buffer.concat([header, Buffer.from([7, 8, 9])]), header.length);
    expect(request.id).toBe('42');
    expect(request.parameters).toEqual({ priority: 1 });
    expect(request.binaryOutputsByDefault).toBe(true);
    expect(Array.from(request.inputs[0]!.tensor.data as ArrayLike<unknown>)).toEqual([1n, 9007199254740993n, 3n, -4n]);
    expect(request.inputs[0]!.tensor.shape).toEqual([2, 2]);
    expect(Array.from(request.inputs[1]!.tensor.data as ArrayLike<unknown>)).toEqual([7, 8, 9]);
    expect(request.inputs[1]!.parameters).toEqual({ layout: 'hwc' });
    expect(request.outputs).toEqual([
      { name: 'logits', binary: false, parameters: {} },
      { name: 'boxes', binary: true, parameters: {} },
    ]);
    expect(restBinaryOutputs(request)).toEqual(new Set(['boxes']));
  });

  it('wants every output, binary or not by binary_data_output, when none is listed', () => {
    const input = { name: 'x', datatype: 'BOOL', shape: [1], data: [true] };
    expect(restBinaryOutputs(decodeRestJsonRequest({ inputs: [input] }))).toBe('none');
    expect(restBinaryOutputs(decodeRestJsonRequest({ inputs: [input], parameters: { binary_data_output: true } }))).toBe('all');
  });
});

describe('decodeRest*Request rejects, naming the field', () => {
  const fp32 = { name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] };
  const withInput = (patch: Record<string, unknown>): unknown => ({ inputs: [{ ...fp32, ...patch }] });
  const json = (body: unknown) => () => decodeRestJsonRequest(body);

  it.each([
    ['a body that is not an object', json([1]), 'body', /must be a JSON object/],
    ['an id that is not a string', json({ id: 5, inputs: [] }), 'id', /must be a string/],
    ['missing inputs', json({}), 'inputs', /must be an array/],
    ['an input that is not an object', json({ inputs: [3] }), 'inputs[0]', /must be an object/],
    ['a missing name', json(withInput({ name: undefined })), 'inputs[0].name', /required/],
    ['a duplicate name', json({ inputs: [fp32, fp32] }), 'inputs[1].name', /"x" is also the name of inputs\[0\]/],
    ['an unknown datatype', json(withInput({ datatype: 'FLOAT' })), 'inputs[0].datatype', /"FLOAT" is not an OIP datatype/],
    ['FP16 as JSON', json(withInput({ datatype: 'FP16' })), 'inputs[0].data', /FP16 data cannot be sent as JSON; send it as binary data/],
    ['BF16', json(withInput({ datatype: 'BF16' })), 'inputs[0].datatype', /BF16 is not supported/],
    ['a number for BYTES', json(withInput({ datatype: 'BYTES', shape: [2], data: ['a', 1] })), 'inputs[0].data[1]', /BYTES takes a string, got 1/],
    ['a shape that is not an array', json(withInput({ shape: '2x2' })), 'inputs[0].shape', /must be an array of non-negative integers/],
    ['a negative dimension', json(withInput({ shape: [-1, 4] })), 'inputs[0].shape[0]', /non-negative integer.*got -1/],
    ['a fractional dimension', json(withInput({ shape: [2, 2.5] })), 'inputs[0].shape[1]', /got 2.5/],
    ['an unsafe dimension', json(withInput({ shape: [2 ** 53] })), 'inputs[0].shape[0]', /below 2\^53/],
    ['a dimension as a string', json(withInput({ shape: ['2', 2] })), 'inputs[0].shape[0]', /got "2"/],
    ['too many dimensions', json(withInput({ shape: new Array(65).fill(1) })), 'inputs[0].shape', /65 dimensions/],
    ['fewer values than the shape', json(withInput({ data: [1, 2, 3] })), 'inputs[0].data', /holds 3 values, FP32 shape \[2,2\] needs 4/],
    ['a short nested row', json(withInput({ data: [[1, 2], [3]] })), 'inputs[0].data[1]', /expected an array of 2 at depth 1, got an array of 1/],
    ['half-nested data', json(withInput({ shape: [2, 2, 2], data: [[1, 2, 3, 4], [5, 6, 7, 8]] })), 'inputs[0].data[0]', /expected an array of 2 at depth 1, got an array of 4/],
    ['mixed flat and nested data', json(withInput({ data: [1, [2], 3, 4] })), 'inputs[0].data[1]', /FP32 takes a number/],
    ['missing data', json(withInput({ data: undefined })), 'inputs[0].data', /required/],
    ['data that is not an array', json(withInput({ data: 'abc' })), 'inputs[0].data', /must be an array/],
    ['300 for UINT8', json(withInput({ datatype: 'UINT8', shape: [2], data: [1, 300] })), 'inputs[0].data[1]', /300 is out of range for UINT8 \(0\.\.255\)/],
    ['-1 for UINT32', json(withInput({ datatype: 'UINT32', shape: [1], data: [-1] })), 'inputs[0].data[0]', /out of range for UINT32/],
    ['a non-integer for INT32', json(withInput({ datatype: 'INT32', shape: [1], data: [1.5] })), 'inputs[0].data[0]', /1.5 is not an integer \(INT32\)/],
    ['a string for INT8', json(withInput({ datatype: 'INT8', shape: [1], data: ['1'] })), 'inputs[0].data[0]', /INT8 takes an integer, got "1"/],
    ['a number for BOOL', json(withInput({ datatype: 'BOOL', shape: [2], data: [true, 1] })), 'inputs[0].data[1]', /BOOL takes true or false, got 1/],
    ['an INT64 number JSON has rounded', json(withInput({ datatype: 'INT64', shape: [1], data: [2 ** 60] })), 'inputs[0].data[0]', /beyond 2\^53.*decimal strings/],
    ['an INT64 string out of range', json(withInput({ datatype: 'INT64', shape: [1], data: ['9223372036854775808'] })), 'inputs[0].data[0]', /out of range for INT64/],
    ['a negative UINT64', json(withInput({ datatype: 'UINT64', shape: [1], data: ['-1'] })), 'inputs[0].data[0]', /out of range for UINT64/],
    ['an FP32 overflow', json(withInput({ shape: [1], data: [1e39] })), 'inputs[0].data[0]', /1e\+39 is out of range for FP32/],
    ['an unknown float string', json(withInput({ shape: [1], data: ['nan'] })), 'inputs[0].data[0]', /"NaN", "Infinity", "-Infinity", got "nan"/],
    ['a bad value in nested data', json(withInput({ data: [[1, 2], [3, null]] })), 'inputs[0].data[1][1]', /got null/],
    ['parameters that are not an object', json({ inputs: [], parameters: [1] }), 'parameters', /must be an object/],
    ['a parameter that is an object', json({ inputs: [], parameters: { foo: {} } }), 'parameters.foo', /string, number or boolean/],
    ['a non-boolean binary_data_output', json({ inputs: [], parameters: { binary_data_output: 'yes' } }), 'parameters.binary_data_output', /true or false/],
    ['outputs that are not an array', json({ inputs: [], outputs: {} }), 'outputs', /must be an array/],
    ['a duplicate output name', json({ inputs: [], outputs: [{ name: 'y' }, { name: 'y' }] }), 'outputs[1].name', /also the name of outputs\[0\]/],
    ['an output without a name', json({ inputs: [], outputs: [{}] }), 'outputs[0].name', /required/],
    ['a non-boolean binary_data', json({ inputs: [], outputs: [{ name: 'y', parameters: { binary_data: 1 } }] }), 'outputs[0].parameters.binary_data', /true or false/],
    ['shared memory', json(withInput({ parameters: { shared_memory_region: 'r' } })), 'inputs[0].parameters.shared_memory_region', /not supported/],
  ])('%s', (_, run, field, pattern) => expectOipError(run, field, pattern));

  it('more elements than the limit in one input: PAYLOAD_TOO_LARGE', () => {
    expectOipError(() => decodeRestJsonRequest(withInput({}), { maxElements: 3 }), 'inputs[0].shape', /\[2,2\] holds 4 elements, above the limit of 3/, 'PAYLOAD_TOO_LARGE');
    expectOipError(() => decodeRestJsonRequest(withInput({ shape: [2 ** 40, 2 ** 40], data: [] })), 'inputs[0].shape', /over 2\^53 elements/, 'PAYLOAD_TOO_LARGE');
  });

  it('more elements than the limit across inputs: PAYLOAD_TOO_LARGE naming the input that crosses it', () => {
    const body = { inputs: [fp32, { ...fp32, name: 'y' }] };
    expect(decodeRestJsonRequest(body, { maxElements: 8 }).inputs).toHaveLength(2);
    expectOipError(() => decodeRestJsonRequest(body, { maxElements: 7 }), 'inputs[1].shape', /brings the request's inputs to 8 elements/, 'PAYLOAD_TOO_LARGE');
  });

  describe('binary data', () => {
    const binaryInput = { name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } };
    const bodyOf = (header: unknown, bytes: number): [Buffer, number] => {
      const h = Buffer.from(JSON.stringify(header));
      return [Buffer.concat([h, Buffer.alloc(bytes)]), h.length];
    };
    const binary = (header: unknown, bytes: number) => () => decodeRestRequest(...bodyOf(header, bytes));

    it('accepts a well-formed binary request', () => {
      expect(binary({ inputs: [binaryInput] }, 16)()).toMatchObject({ inputs: [{ name: 'x', parameters: {} }] });
    });

    it.each([
      ['a header length past the body', () => decodeRestRequest(Buffer.from('{}'), 3), 'Inference-Header-Content-Length', /from 0 to the body's length \(2 bytes\), got 3/],
      ['a fractional header length', () => decodeRestRequest(Buffer.from('{}'), 1.5), 'Inference-Header-Content-Length', /got 1.5/],
      ['a header that is not JSON', () => decodeRestRequest(Buffer.from('{"inputs": ['), null), 'body', /not valid JSON/],
      ['a header that is not UTF-8', () => decodeRestRequest(Buffer.from([0x22, 0xff, 0x22]), null), 'body', /not valid UTF-8/],
      ['binary data without the header length', () => decodeRestRequest(Buffer.from(JSON.stringify({ inputs: [binaryInput] })), null), 'inputs[0].parameters.binary_data_size', /needs the Inference-Header-Content-Length header/],
      ['a binary_data_size that does not fit the shape', binary({ inputs: [{ ...binaryInput, parameters: { binary_data_size: 12 } }] }, 12), 'inputs[0].parameters.binary_data_size', /is 12, but FP32 shape \[2,2\] takes 16 bytes/],
      ['a binary_data_size that is a string', binary({ inputs: [{ ...binaryInput, parameters: { binary_data_size: '16' } }] }, 16), 'inputs[0].parameters.binary_data_size', /is "16"/],
      ['binary data shorter than the sizes', binary({ inputs: [binaryInput, { ...binaryInput, name: 'y' }] }, 20), 'inputs[1].parameters.binary_data_size', /16 bytes from offset 16 run past the binary data, which holds 20 bytes/],
      ['bytes left over after the sizes', binary({ inputs: [binaryInput] }, 17), 'inputs', /add up to 16 bytes, but 17 bytes follow the JSON header/],
      ['both data and binary_data_size', binary({ inputs: [{ ...binaryInput, data: [1, 2, 3, 4] }] }, 16), 'inputs[0].data', /not allowed with parameters.binary_data_size/],
    ])('%s', (_, run, field, pattern) => expectOipError(run, field, pattern));

    it.each([
      ['too few elements', [1, 0, 0, 0, 0x61], 'holds 1 elements, the shape needs 2'],
      ['a cut-off length', [1, 0, 0, 0, 0x61, 0, 0], 'element 1: its 4-byte length is cut off after 2 bytes'],
      ['a length past the end', [1, 0, 0, 0, 0x61, 9, 0, 0, 0, 0x62], 'element 1: its length 9 runs past the end \\(1 bytes left\\)'],
      ['bytes left over', [0, 0, 0, 0, 0, 0, 0, 0, 7], 'holds more than the 2 elements the shape needs \\(1 bytes left over\\)'],
    ])('BYTES binary data with %s', (_, bytes, problem) => {
      const h = Buffer.from(JSON.stringify({ inputs: [{ name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: bytes.length } }] }));
      expectOipError(() => decodeRestRequest(Buffer.concat([h, Buffer.from(bytes)]), h.length), 'inputs[0] binary data', new RegExp(`${problem} \\(BYTES shape \\[2\\]`));
    });

    it('a BYTES binary_data_size that is not a byte count', () => {
      const h = Buffer.from(JSON.stringify({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: -4 } }] }));
      expectOipError(() => decodeRestRequest(Buffer.concat([h, Buffer.alloc(4)]), h.length), 'inputs[0].parameters.binary_data_size', /must be the byte count of the input's binary data, got -4/);
    });

    it('a BOOL byte other than 0 or 1', () => {
      const h = Buffer.from(JSON.stringify({ inputs: [{ name: 'b', datatype: 'BOOL', shape: [3], parameters: { binary_data_size: 3 } }] }));
      expectOipError(() => decodeRestRequest(Buffer.concat([h, Buffer.from([0, 1, 2])]), h.length), 'inputs[0] binary data', /BOOL element 2 is byte 2/);
    });
  });
});

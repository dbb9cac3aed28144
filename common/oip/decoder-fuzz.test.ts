import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelInferRequest__Output } from '../../proto/generated/inference/ModelInferRequest.js';
import { loadInferenceProto } from '../../proto/load-inference-proto.js';
import { isGridlineError } from '../errors.js';
import { FuzzTally } from '../fuzz-tally.js';
import { elementCount } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { decodeGrpcRequest, encodeGrpcResponse } from './grpc-codec.js';
import type { InferRequest } from './infer-messages.js';
import { decodeRestJsonRequest, decodeRestRequest, encodeRestResponse } from './rest-codec.js';
import { anyValueTensorArb } from './tensor-arbitraries.js';

// Whatever a client sends, a decoder returns a request or throws a GridlineError the gateway can
// turn into a 400/413; never a TypeError or RangeError that would surface as a 500. Besides
// arbitrary values and bytes, valid requests with one part replaced or removed reach the checks
// deep inside (data values, binary sizes, contents fields) that random input rarely gets to.
const RUNS = 2000;
const LIMIT = { maxElements: 10_000 };
const { ModelInfer } = loadInferenceProto().inference.GRPCInferenceService.service;
const tally = new FuzzTally('OIP REST + gRPC decoders');
afterAll(() => tally.print());

/** Decodes, records the outcome under `kind`, and returns the error (undefined when decoded). */
function onlyGridlineErrors(kind: string, decode: () => InferRequest): { code: string; message: string } | undefined {
  let request: InferRequest;
  try {
    request = decode();
  } catch (err) {
    tally.record(kind, isGridlineError(err) ? err.code : `untyped ${String(err)}`);
    expect(isGridlineError(err), String(err)).toBe(true);
    if (!isGridlineError(err)) return undefined;
    expect(['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE']).toContain(err.code);
    // The message starts with the field it is about: `inputs[0].shape[1]: ...`, `body: ...`.
    const field = (err.details as { field?: unknown } | undefined)?.field;
    expect(typeof field, err.message).toBe('string');
    expect(err.message.startsWith(`${String(field)}: `), err.message).toBe(true);
    return { code: err.code, message: err.message };
  }
  tally.record(kind, 'ok');
  // What a decoder returns holds together: every entry present, every tensor as large as its shape.
  for (const input of request.inputs) {
    expect(typeof input.name).toBe('string');
    expect(input.tensor.data.length).toBe(elementCount(input.tensor.shape));
  }
  for (const output of request.outputs) expect(typeof output.binary).toBe('boolean');
  expect(request.inputs.length).toBe(Object.keys(request.inputs).length);
  expect(request.outputs.length).toBe(Object.keys(request.outputs).length);
  return undefined;
}

const anything = fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true, withTypedArray: true, withSparseArray: true });
const jsonScalar = fc.oneof(
  fc.boolean(), fc.integer({ min: -3, max: 300 }), fc.double(), fc.string({ maxLength: 4 }),
  fc.constantFrom('NaN', 'Infinity', '9223372036854775807', '-1', 'FP32', 'BOOL', 'BYTES', null, 2 ** 60, -0, [], {}),
);
/** A replacement for one part of a valid request: another value, or nothing (the part removed). */
const replacement = fc.oneof(
  { weight: 3, arbitrary: jsonScalar },
  { weight: 1, arbitrary: anything },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

type Path = readonly (string | number)[];

/** Every path into a plain structure: objects and arrays, not into bytes. */
function pathsOf(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  }
  return out;
}

/** Replaces (or, for undefined, removes) the part at `pick` modulo the number of paths. */
function mutate(root: unknown, pick: number, value: unknown): unknown {
  const paths = pathsOf(root);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return value;
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  if (value === undefined && !Array.isArray(parent)) delete parent[key];
  else parent[key] = value;
  return root;
}

const tensorsArb = fc.array(anyValueTensorArb, { minLength: 1, maxLength: 3 });

/** A valid REST request body for `tensors`, the `binary` ones as binary data. */
function restRequestOf(tensors: readonly Tensor[], binary: readonly string[]): { header: Record<string, unknown>; tail: Buffer } {
  const encoded = encodeRestResponse(
    { modelName: 'm', outputs: tensors.map((t, i) => ({ name: `t${i}`, tensor: t })) },
    { binaryOutputs: new Set(binary) },
  );
  const end = encoded.headerLength ?? encoded.body.length;
  const response = JSON.parse(encoded.body.subarray(0, end).toString()) as { outputs: unknown[] };
  return {
    header: {
      id: 'r', parameters: { binary_data_output: true, p: 1 }, inputs: response.outputs,
      outputs: [{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }],
    },
    tail: encoded.body.subarray(end),
  };
}

describe('decoders throw only GridlineErrors', () => {
  it('decodeRestJsonRequest on arbitrary values', () => {
    fc.assert(fc.property(anything, (value) => { onlyGridlineErrors('REST JSON: arbitrary value', () => decodeRestJsonRequest(value, LIMIT)); }), { numRuns: RUNS });
  });

  it('decodeRest*Request on valid requests with one part replaced or removed, and bytes cut or added', () => {
    const arb = tensorsArb.chain((tensors) => fc.record({
      tensors: fc.constant(tensors),
      binary: fc.subarray(tensors.map((_, i) => `t${i}`)),
      pick: fc.nat(),
      value: replacement,
      cut: fc.integer({ min: -4, max: 4 }),
      skew: fc.constantFrom(0, 0, 0, -1, 1),
    }));
    fc.assert(fc.property(arb, ({ tensors, binary, pick, value, cut, skew }) => {
      const { header, tail } = restRequestOf(tensors, binary);
      const mutated = mutate(header, pick, value);
      onlyGridlineErrors('REST JSON: valid request, one part replaced/removed', () => decodeRestJsonRequest(mutated, LIMIT));
      let text: string | undefined;
      try {
        text = JSON.stringify(mutated);
      } catch {
        return; // a bigint: not something a client can send as JSON
      }
      const h = Buffer.from(text ?? '');
      const t = cut >= 0 ? Buffer.concat([tail, Buffer.alloc(cut, 2)]) : tail.subarray(0, Math.max(0, tail.length + cut));
      onlyGridlineErrors('REST binary: part replaced, bytes cut/added, header length skewed', () => decodeRestRequest(Buffer.concat([h, t]), h.length + skew, LIMIT));
      onlyGridlineErrors('REST body: part replaced/removed', () => decodeRestRequest(h, null, LIMIT));
    }), { numRuns: RUNS });
  });

  it('decodeRestRequest on random bytes', () => {
    const arb = fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.option(fc.oneof(fc.integer({ min: -5, max: 250 }), fc.double())));
    fc.assert(fc.property(arb, ([body, headerLength]) => { onlyGridlineErrors('REST body: random bytes', () => decodeRestRequest(body, headerLength, LIMIT)); }), { numRuns: RUNS });
  });

  it('decodeGrpcRequest on random bytes that protobuf decodes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      let message: ModelInferRequest__Output;
      try {
        message = ModelInfer.requestDeserialize(Buffer.from(bytes));
      } catch {
        return; // grpc-js answers undecodable messages itself
      }
      onlyGridlineErrors('gRPC: random protobuf bytes', () => decodeGrpcRequest(message, LIMIT));
    }), { numRuns: RUNS });
  });

  it('decodeGrpcRequest on valid requests with one part replaced or removed, directly and over the wire', () => {
    const arb = fc.record({ tensors: tensorsArb, raw: fc.boolean(), pick: fc.nat(), value: replacement });
    fc.assert(fc.property(arb, ({ tensors, raw, pick, value }) => {
      const encoded = encodeGrpcResponse({ modelName: 'm', outputs: tensors.map((t, i) => ({ name: `t${i}`, tensor: t })) });
      const request = {
        modelName: 'm', id: 'r', parameters: { p: { int64Param: '5' } },
        inputs: tensors.map((t, i) => ({
          name: `t${i}`, datatype: oipDatatypeOf(t.dtype), shape: [...t.shape], parameters: {},
          contents: raw ? null : contentsOf(t),
        })),
        outputs: [{ name: 'y', parameters: {} }],
        rawInputContents: raw ? encoded.rawOutputContents : [],
      };
      const mutated = mutate(request, pick, value);
      onlyGridlineErrors('gRPC: valid request, one part replaced/removed', () => decodeGrpcRequest(mutated as ModelInferRequest__Output, LIMIT));
      let wire: ModelInferRequest__Output;
      try {
        wire = ModelInfer.requestDeserialize(ModelInfer.requestSerialize(mutated as ModelInferRequest__Output));
      } catch {
        return; // protobuf refused to encode it: no client could send it
      }
      onlyGridlineErrors('gRPC wire: valid request, one part replaced/removed', () => decodeGrpcRequest(wire, LIMIT));
    }), { numRuns: RUNS });
  });

  it('decodeGrpcRequest on arbitrary values', () => {
    fc.assert(fc.property(anything, (value) => { onlyGridlineErrors('gRPC: arbitrary value', () => decodeGrpcRequest(value as ModelInferRequest__Output, LIMIT)); }), { numRuns: RUNS });
  });
});

// Hostile input headers: shapes that declare billions of elements or are not shapes at all,
// datatypes that do not exist, data of the wrong length or type, binary sizes and header lengths
// that point past the body, BYTES length prefixes past the end. Decoded with the real default
// limit too, so a declared [100000,100000,100000] is refused before anything is allocated.
const hostileShape = fc.oneof(
  fc.constantFrom<unknown>(
    [100000, 100000, 100000], [2 ** 31, 2 ** 31], [2 ** 53], [2 ** 53 + 2], [65536, 65536], [1, -1], [-1], [-0], [3, 0, 2 ** 40],
    [Number.NaN], [Infinity], [1.5], ['3'], ['-1'], ['99999999999999999999'], ['1e5'], [null], [[2]], [true], {}, '2', null, [],
    Array(65).fill(1), Array(64).fill(2),
  ),
  fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: 2 ** 16, max: 2 ** 31 }), fc.double()), { maxLength: 6 }),
);
const hostileDatatype = fc.oneof(
  fc.constantFrom<unknown>('FP32', 'FP16', 'BF16', 'fp32', 'FP8', 'INT4', 'BYTES', 'BOOL', 'UINT64', '', ' FP32', 'STRING', 3, null, ['FP32']),
  fc.string({ maxLength: 6 }),
);
const hostileData = fc.oneof(
  fc.constantFrom<unknown>([], [1], [1, 2, 3], [[1, 2], [3]], ['a'], [null], [true, 2], 'abc', 5, null, [Number.MAX_VALUE], [[[[[1]]]]], ['NaN', 'Infinity', '-0']),
  fc.array(fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 3 })), { maxLength: 12 }),
);
const hostileSize = fc.oneof(fc.integer({ min: -8, max: 200 }), fc.constantFrom<unknown>(2 ** 53, 2 ** 60, -1, 1.5, Number.NaN, '12', null, true, 4e9));

describe('hostile tensor headers', () => {
  it('REST: wrong shapes, datatypes, data, binary sizes and header lengths', () => {
    const arb = fc.record({
      shape: hostileShape, datatype: hostileDatatype, data: hostileData, binary: fc.boolean(), size: hostileSize,
      tail: fc.uint8Array({ maxLength: 64 }), skew: fc.integer({ min: -3, max: 300 }), defaultLimit: fc.boolean(),
    });
    fc.assert(fc.property(arb, ({ shape, datatype, data, binary, size, tail, skew, defaultLimit }) => {
      const input = binary
        ? { name: 'x', datatype, shape, parameters: { binary_data_size: size } }
        : { name: 'x', datatype, shape, data };
      const limit = defaultLimit ? {} : LIMIT;
      const header = Buffer.from(JSON.stringify({ inputs: [input] }));
      const kind = binary ? 'REST: hostile header, binary data (size, header length past body)' : 'REST: hostile header, JSON data';
      const err = binary
        ? onlyGridlineErrors(kind, () => decodeRestRequest(Buffer.concat([header, tail]), header.length + (skew > 200 ? skew * 1000 : skew % 4), limit))
        : onlyGridlineErrors(kind, () => decodeRestRequest(header, null, limit));
      if (!binary && JSON.stringify(shape) === '[100000,100000,100000]' && datatype === 'FP32') {
        expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
        expect(err?.message).toMatch(/^inputs\[0\]\.shape: \[100000,100000,100000\] holds 1000000000000000 elements/);
      }
    }), { numRuns: 3000 });
  });

  it('gRPC: wrong shapes, datatypes, contents and raw byte counts, BYTES prefixes past the end', () => {
    const arb = fc.record({
      shape: hostileShape, datatype: hostileDatatype, data: hostileData, raw: fc.option(fc.uint8Array({ maxLength: 48 })),
      rawCount: fc.integer({ min: 0, max: 3 }), prefix: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 })), defaultLimit: fc.boolean(),
    });
    fc.assert(fc.property(arb, ({ shape, datatype, data, raw, rawCount, prefix, defaultLimit }) => {
      let bytes = raw === null ? null : Buffer.from(raw);
      if (bytes !== null && prefix !== null) {
        const lead = Buffer.alloc(4);
        lead.writeUInt32LE(prefix);
        bytes = Buffer.concat([lead, bytes]);
      }
      const wireShape = Array.isArray(shape) ? shape.map((d) => (typeof d === 'number' && Number.isFinite(d) ? String(Math.trunc(d)) : d)) : shape;
      const request = {
        modelName: 'm', modelVersion: '', id: '', parameters: {},
        inputs: [{ name: 'x', datatype, shape: wireShape, parameters: {}, contents: bytes === null ? { fp32Contents: data, intContents: data } : null }],
        outputs: [], rawInputContents: bytes === null ? [] : Array<Buffer>(rawCount === 0 ? 1 : rawCount).fill(bytes),
      };
      const limit = defaultLimit ? {} : LIMIT;
      onlyGridlineErrors('gRPC: hostile header, decoded message', () => decodeGrpcRequest(request as unknown as ModelInferRequest__Output, limit));
      let wire: ModelInferRequest__Output;
      try {
        wire = ModelInfer.requestDeserialize(ModelInfer.requestSerialize(request as unknown as ModelInferRequest__Output));
      } catch {
        return; // protobuf cannot encode it: no client could send it
      }
      const err = onlyGridlineErrors('gRPC: hostile header, over the wire', () => decodeGrpcRequest(wire, limit));
      if (rawCount <= 1 && JSON.stringify(wireShape) === '["100000","100000","100000"]' && datatype === 'FP32') expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    }), { numRuns: 3000 });
  });
});

function contentsOf(t: Tensor): Record<string, unknown[]> {
  const values = Array.from(t.data as ArrayLike<number | bigint>);
  switch (t.dtype) {
    case 'bool': return { boolContents: values.map((v) => v !== 0) };
    case 'int8': case 'int16': case 'int32': return { intContents: values };
    case 'uint8': case 'uint16': case 'uint32': return { uintContents: values };
    case 'int64': return { int64Contents: values.map(String) };
    case 'uint64': return { uint64Contents: values.map(String) };
    case 'float32': return { fp32Contents: values };
    case 'float64': return { fp64Contents: values };
    case 'string': return { bytesContents: [...(t.data as readonly Uint8Array[])] };
    case 'float16': return {};
  }
}

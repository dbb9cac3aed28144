import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelInferRequest__Output } from '../../proto/generated/inference/ModelInferRequest.js';
import { loadInferenceProto } from '../../proto/load-inference-proto.js';
import { isGridlineError } from '../errors.js';
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

function onlyGridlineErrors(decode: () => InferRequest): void {
  let request: InferRequest;
  try {
    request = decode();
  } catch (err) {
    expect(isGridlineError(err), String(err)).toBe(true);
    if (isGridlineError(err)) expect(['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE']).toContain(err.code);
    return;
  }
  // What a decoder returns holds together: every entry present, every tensor as large as its shape.
  for (const input of request.inputs) {
    expect(typeof input.name).toBe('string');
    expect(input.tensor.data.length).toBe(elementCount(input.tensor.shape));
  }
  for (const output of request.outputs) expect(typeof output.binary).toBe('boolean');
  expect(request.inputs.length).toBe(Object.keys(request.inputs).length);
  expect(request.outputs.length).toBe(Object.keys(request.outputs).length);
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
    fc.assert(fc.property(anything, (value) => onlyGridlineErrors(() => decodeRestJsonRequest(value, LIMIT))), { numRuns: RUNS });
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
      onlyGridlineErrors(() => decodeRestJsonRequest(mutated, LIMIT));
      let text: string | undefined;
      try {
        text = JSON.stringify(mutated);
      } catch {
        return; // a bigint: not something a client can send as JSON
      }
      const h = Buffer.from(text ?? '');
      const t = cut >= 0 ? Buffer.concat([tail, Buffer.alloc(cut, 2)]) : tail.subarray(0, Math.max(0, tail.length + cut));
      onlyGridlineErrors(() => decodeRestRequest(Buffer.concat([h, t]), h.length + skew, LIMIT));
      onlyGridlineErrors(() => decodeRestRequest(h, null, LIMIT));
    }), { numRuns: RUNS });
  });

  it('decodeRestRequest on random bytes', () => {
    const arb = fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.option(fc.oneof(fc.integer({ min: -5, max: 250 }), fc.double())));
    fc.assert(fc.property(arb, ([body, headerLength]) => onlyGridlineErrors(() => decodeRestRequest(body, headerLength, LIMIT))), { numRuns: RUNS });
  });

  it('decodeGrpcRequest on random bytes that protobuf decodes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      let message: ModelInferRequest__Output;
      try {
        message = ModelInfer.requestDeserialize(Buffer.from(bytes));
      } catch {
        return; // grpc-js answers undecodable messages itself
      }
      onlyGridlineErrors(() => decodeGrpcRequest(message, LIMIT));
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
      onlyGridlineErrors(() => decodeGrpcRequest(mutated as ModelInferRequest__Output, LIMIT));
      let wire: ModelInferRequest__Output;
      try {
        wire = ModelInfer.requestDeserialize(ModelInfer.requestSerialize(mutated as ModelInferRequest__Output));
      } catch {
        return; // protobuf refused to encode it: no client could send it
      }
      onlyGridlineErrors(() => decodeGrpcRequest(wire, LIMIT));
    }), { numRuns: RUNS });
  });

  it('decodeGrpcRequest on arbitrary values', () => {
    fc.assert(fc.property(anything, (value) => onlyGridlineErrors(() => decodeGrpcRequest(value as ModelInferRequest__Output, LIMIT))), { numRuns: RUNS });
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

import type { ModelInferRequest__Output } from '../../proto/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse } from '../../proto/generated/inference/ModelInferResponse.js';
import { zeros } from '../tensor.js';
import type { DType, Tensor } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { ElementBudget } from './element-budget.js';
import type { OipDecodeOptions } from './element-budget.js';
import { elementProblem, elementReader } from './element-values.js';
import { grpcParametersOf, readGrpcParameters } from './grpc-parameters.js';
import type { InferInput, InferRequest, InferResponse, RequestedOutput } from './infer-messages.js';
import { readInputHeader } from './input-header.js';
import { describeReceived, invalidField, isRecord } from './oip-errors.js';
import { rawBytesOf, tensorFromRaw } from './raw-tensor-bytes.js';
import { formatShape } from './tensor-shape.js';
import { rejectSharedMemory } from './transport-parameters.js';
import { readUniqueName } from './unique-name.js';

/** A decoded gRPC request also names its model, which REST carries in the URL. */
export interface GrpcInferRequest extends InferRequest {
  readonly modelName: string;
  readonly modelVersion: string;
}

// InferTensorContents fields (loader names, proto names), and the one each dtype must use.
const CONTENT_FIELDS = {
  boolContents: 'bool_contents', intContents: 'int_contents', int64Contents: 'int64_contents',
  uintContents: 'uint_contents', uint64Contents: 'uint64_contents', fp32Contents: 'fp32_contents',
  fp64Contents: 'fp64_contents', bytesContents: 'bytes_contents',
} as const;

type ContentField = keyof typeof CONTENT_FIELDS;

// FP16 has no contents field: it travels in raw_input_contents only.
const CONTENT_FIELD_OF: Readonly<Record<DType, ContentField | null>> = {
  bool: 'boolContents', int8: 'intContents', int16: 'intContents', int32: 'intContents',
  int64: 'int64Contents', uint8: 'uintContents', uint16: 'uintContents', uint32: 'uintContents',
  uint64: 'uint64Contents', float16: null, float32: 'fp32Contents', float64: 'fp64Contents',
  string: 'bytesContents',
};

/**
 * Decodes a ModelInferRequest as @grpc/proto-loader gives it with INFERENCE_PROTO_LOADER_OPTIONS
 * (camelCase fields, int64 as decimal strings, defaults filled in). Each input's data comes from
 * `raw_input_contents` (one entry per input, preferred) or from the `contents` field that fits its
 * datatype. Every value is checked at run time, whatever the static type says, and every error is
 * an INVALID_ARGUMENT or PAYLOAD_TOO_LARGE GridlineError naming the field by its proto name.
 */
export function decodeGrpcRequest(request: ModelInferRequest__Output, options: OipDecodeOptions = {}): GrpcInferRequest {
  const req: unknown = request;
  if (!isRecord(req)) throw invalidField('request', `must be a ModelInferRequest, got ${describeReceived(req)}`);
  const modelName = readString(req['modelName'], 'model_name');
  const modelVersion = readString(req['modelVersion'], 'model_version');
  const id = readString(req['id'], 'id');
  const parameters = readGrpcParameters(req['parameters'], 'parameters');
  const rawInputs = readList(req['inputs'], 'inputs');
  const raw = readList(req['rawInputContents'], 'raw_input_contents');
  if (raw.length > 0 && raw.length !== rawInputs.length) {
    throw invalidField('raw_input_contents', `holds ${raw.length} entries for ${rawInputs.length} inputs; it must hold one per input, or none`);
  }

  const budget = new ElementBudget(options);
  const names = new Map<string, string>();
  const inputs: InferInput[] = [];
  // Index loops, not map: map skips the holes of a sparse array built by hand.
  for (let i = 0; i < rawInputs.length; i++) {
    const field = `inputs[${i}]`;
    const input = rawInputs[i];
    if (!isRecord(input)) throw invalidField(field, `must be an InferInputTensor, got ${describeReceived(input)}`);
    const { name, dtype, shape, count } = readInputHeader(input, field, names, budget, true);
    const inputParameters = readGrpcParameters(input['parameters'], `${field}.parameters`);
    rejectSharedMemory(inputParameters, `${field}.parameters`);
    let tensor: Tensor;
    if (raw.length > 0) {
      requireEmptyContents(input['contents'], `${field}.contents`);
      const bytes: unknown = raw[i];
      if (!(bytes instanceof Uint8Array)) throw invalidField(`raw_input_contents[${i}]`, `must be bytes, got ${describeReceived(bytes)}`);
      tensor = tensorFromRaw(dtype, shape, count, bytes, `raw_input_contents[${i}]`);
    } else tensor = readContents(input['contents'], dtype, shape, count, `${field}.contents`);
    inputs.push({ name, tensor, parameters: inputParameters });
  }

  const outputNames = new Map<string, string>();
  const rawOutputs = readList(req['outputs'], 'outputs');
  const outputs: RequestedOutput[] = [];
  for (let j = 0; j < rawOutputs.length; j++) {
    const field = `outputs[${j}]`;
    const output = rawOutputs[j];
    if (!isRecord(output)) throw invalidField(field, `must be an InferRequestedOutputTensor, got ${describeReceived(output)}`);
    const name = readUniqueName(output['name'], `${field}.name`, outputNames);
    const outputParameters = readGrpcParameters(output['parameters'], `${field}.parameters`);
    rejectSharedMemory(outputParameters, `${field}.parameters`);
    outputs.push({ name, binary: true, parameters: outputParameters });
  }
  return { modelName, modelVersion, id, parameters, inputs, outputs, binaryOutputsByDefault: true };
}

function readString(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidField(field, `must be a string, got ${describeReceived(value)}`);
  return value;
}

function readList(value: unknown, field: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidField(field, `must be a list, got ${describeReceived(value)}`);
  return value;
}

/** The contents message's fields, each checked to be a list; null or absent reads as all empty. */
function contentLists(contents: unknown, field: string): Partial<Record<ContentField, readonly unknown[]>> {
  if (contents === undefined || contents === null) return {};
  if (!isRecord(contents)) throw invalidField(field, `must be an InferTensorContents, got ${describeReceived(contents)}`);
  const lists: Partial<Record<ContentField, readonly unknown[]>> = {};
  for (const [key, protoName] of Object.entries(CONTENT_FIELDS) as [ContentField, string][]) {
    lists[key] = readList(contents[key], `${field}.${protoName}`);
  }
  return lists;
}

function requireEmptyContents(contents: unknown, field: string): void {
  for (const [key, list] of Object.entries(contentLists(contents, field)) as [ContentField, readonly unknown[]][]) {
    if (list.length > 0) throw invalidField(`${field}.${CONTENT_FIELDS[key]}`, 'must be empty when raw_input_contents carries the data');
  }
}

function readContents(contents: unknown, dtype: DType, shape: readonly number[], count: number, field: string): Tensor {
  const lists = contentLists(contents, field);
  const datatype = oipDatatypeOf(dtype);
  const expected = CONTENT_FIELD_OF[dtype];
  const goes = expected === null ? 'raw_input_contents' : CONTENT_FIELDS[expected];
  for (const [key, list] of Object.entries(lists) as [ContentField, readonly unknown[]][]) {
    if (key !== expected && list.length > 0) {
      throw invalidField(`${field}.${CONTENT_FIELDS[key]}`, `does not fit datatype ${datatype}; its values go in ${goes}`);
    }
  }
  if (expected === null) {
    if (count === 0) return zeros(dtype, shape);
    throw invalidField(field, `${datatype} has no contents field; send its data in raw_input_contents`);
  }
  const expectedName = `${field}.${CONTENT_FIELDS[expected]}`;
  const values = lists[expected] ?? [];
  if (values.length !== count) {
    throw invalidField(expectedName, `holds ${values.length} values, ${datatype} shape ${formatShape(shape)} needs ${count}`);
  }
  const t = zeros(dtype, shape);
  const out = t.data as unknown as Record<number, number | bigint | Uint8Array>;
  const read = elementReader(dtype);
  for (let k = 0; k < count; k++) {
    const element = read(values[k]);
    if (element === undefined) throw invalidField(`${expectedName}[${k}]`, elementProblem(dtype, values[k]));
    out[k] = element;
  }
  return t;
}

/** Encodes a response; outputs always go as raw_output_contents, the cheap form. */
export function encodeGrpcResponse(response: InferResponse): ModelInferResponse {
  return {
    modelName: response.modelName,
    modelVersion: response.modelVersion ?? '',
    id: response.id ?? '',
    parameters: grpcParametersOf(response.parameters, 'parameters'),
    outputs: response.outputs.map((output, j) => ({
      name: output.name,
      datatype: oipDatatypeOf(output.tensor.dtype),
      shape: [...output.tensor.shape],
      parameters: grpcParametersOf(output.parameters, `outputs[${j}].parameters`),
    })),
    rawOutputContents: response.outputs.map((output) => rawBytesOf(output.tensor)),
  };
}

import type { Tensor } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { ElementBudget } from './element-budget.js';
import type { OipDecodeOptions } from './element-budget.js';
import type { InferInput, InferRequest, InferResponse, RequestedOutput } from './infer-messages.js';
import { readInputHeader } from './input-header.js';
import { jsonDataText, readJsonData } from './json-tensor-data.js';
import { describeReceived, invalidField, isRecord } from './oip-errors.js';
import { rawByteLength, rawBytesOf, tensorFromRaw } from './raw-tensor-bytes.js';
import { readRestParameters, restParametersText } from './rest-parameters.js';
import { formatShape } from './tensor-shape.js';
import { rejectSharedMemory, takeBooleanParameter, takeParameter } from './transport-parameters.js';
import { readUniqueName } from './unique-name.js';

/** Triton's binary tensor extension: the length of the JSON header that starts the body. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';

/** Which outputs of a response go as binary data after the JSON header. */
export type BinaryOutputs = ReadonlySet<string> | 'all' | 'none';

export interface EncodedRestResponse {
  readonly body: Buffer;
  /** The Inference-Header-Content-Length to send; null when the body is JSON only. */
  readonly headerLength: number | null;
  readonly contentType: 'application/json' | 'application/octet-stream';
}

/** Decodes a request body that is all JSON and already parsed (no binary data possible). */
export function decodeRestJsonRequest(json: unknown, options: OipDecodeOptions = {}): InferRequest {
  return decodeRest(json, null, options);
}

/**
 * Decodes a request body. With `headerLength` (the Inference-Header-Content-Length header), the
 * first `headerLength` bytes are the JSON header and the rest is the binary data of the inputs that
 * carry `parameters.binary_data_size`, back to back in input order; without it, the body is JSON.
 * Binary tensors are views over `body` where aligned, so the body must not be reused while they live.
 */
export function decodeRestRequest(body: Uint8Array, headerLength: number | null, options: OipDecodeOptions = {}): InferRequest {
  if (headerLength !== null && (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.byteLength)) {
    throw invalidField(
      INFERENCE_HEADER_CONTENT_LENGTH,
      `must be an integer from 0 to the body's length (${body.byteLength} bytes), got ${describeReceived(headerLength)}`,
    );
  }
  const end = headerLength ?? body.byteLength;
  return decodeRest(parseJson(body.subarray(0, end)), headerLength === null ? null : body.subarray(end), options);
}

function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidField('body', 'the JSON header is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidField('body', `the JSON header is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function decodeRest(json: unknown, binary: Uint8Array | null, options: OipDecodeOptions): InferRequest {
  if (!isRecord(json)) throw invalidField('body', `must be a JSON object, got ${describeReceived(json)}`);
  const id = json['id'] ?? '';
  if (typeof id !== 'string') throw invalidField('id', `must be a string, got ${describeReceived(id)}`);
  const parameters = readRestParameters(json['parameters'], 'parameters');
  const binaryOutputsByDefault = takeBooleanParameter(parameters, 'binary_data_output', false, 'parameters');

  const rawInputs = json['inputs'];
  if (!Array.isArray(rawInputs)) throw invalidField('inputs', `must be an array of input tensors, got ${describeReceived(rawInputs)}`);
  const budget = new ElementBudget(options);
  const names = new Map<string, string>();
  const inputs: InferInput[] = [];
  let offset = 0;
  for (let i = 0; i < rawInputs.length; i++) {
    const field = `inputs[${i}]`;
    const input: unknown = rawInputs[i];
    if (!isRecord(input)) throw invalidField(field, `must be an object, got ${describeReceived(input)}`);
    const { name, dtype, shape, count } = readInputHeader(input, field, names, budget, false);
    const inputParameters = readRestParameters(input['parameters'], `${field}.parameters`);
    rejectSharedMemory(inputParameters, `${field}.parameters`);
    const size = takeParameter(inputParameters, 'binary_data_size');
    let tensor: Tensor;
    if (size === undefined) {
      if (input['data'] === undefined) throw invalidField(`${field}.data`, 'required (or parameters.binary_data_size, with the data after the JSON header)');
      tensor = readJsonData(input['data'], dtype, shape, count, `${field}.data`);
    } else {
      const sizeField = `${field}.parameters.binary_data_size`;
      if (binary === null) throw invalidField(sizeField, `binary data needs the ${INFERENCE_HEADER_CONTENT_LENGTH} header, which the request lacks`);
      if (input['data'] !== undefined) throw invalidField(`${field}.data`, 'not allowed with parameters.binary_data_size');
      // BYTES elements carry their own lengths, so only the client knows the size.
      const need = rawByteLength(dtype, count) ?? size;
      if (typeof need !== 'number' || !Number.isSafeInteger(need) || need < 0) {
        throw invalidField(sizeField, `must be the byte count of the input's binary data, got ${describeReceived(size)}`);
      }
      if (size !== need) {
        throw invalidField(sizeField, `is ${describeReceived(size)}, but ${oipDatatypeOf(dtype)} shape ${formatShape(shape)} takes ${need} bytes`);
      }
      if (offset + need > binary.byteLength) {
        throw invalidField(sizeField, `${need} bytes from offset ${offset} run past the binary data, which holds ${binary.byteLength} bytes`);
      }
      tensor = tensorFromRaw(dtype, shape, count, binary.subarray(offset, offset + need), `${field} binary data`);
      offset += need;
    }
    inputs.push({ name, tensor, parameters: inputParameters });
  }
  if (binary !== null && offset !== binary.byteLength) {
    throw invalidField(
      'inputs',
      `the binary_data_size parameters add up to ${offset} bytes, but ${binary.byteLength} bytes follow the JSON header`,
    );
  }
  return { id, parameters, inputs, outputs: readOutputs(json['outputs'], binaryOutputsByDefault), binaryOutputsByDefault };
}

function readOutputs(value: unknown, binaryByDefault: boolean): RequestedOutput[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidField('outputs', `must be an array, got ${describeReceived(value)}`);
  const names = new Map<string, string>();
  const outputs: RequestedOutput[] = [];
  for (let j = 0; j < value.length; j++) {
    const field = `outputs[${j}]`;
    const output: unknown = value[j];
    if (!isRecord(output)) throw invalidField(field, `must be an object, got ${describeReceived(output)}`);
    const name = readUniqueName(output['name'], `${field}.name`, names);
    const parameters = readRestParameters(output['parameters'], `${field}.parameters`);
    rejectSharedMemory(parameters, `${field}.parameters`);
    const binary = takeBooleanParameter(parameters, 'binary_data', binaryByDefault, `${field}.parameters`);
    outputs.push({ name, binary, parameters });
  }
  return outputs;
}

/**
 * Which outputs the client wants as binary data: those it listed with `binary_data` (or under
 * `binary_data_output`), or, when it listed none, all or none by `binary_data_output`.
 */
export function restBinaryOutputs(request: InferRequest): BinaryOutputs {
  if (request.outputs.length === 0) return request.binaryOutputsByDefault ? 'all' : 'none';
  return new Set(request.outputs.filter((o) => o.binary).map((o) => o.name));
}

/**
 * Encodes a response: JSON only, or (when any output goes binary) a JSON header followed by the
 * binary outputs' bytes in output order, each announced by `parameters.binary_data_size`.
 * JSON data is flat; see jsonDataText for how NaN, infinities, -0 and large 64-bit integers are
 * written so they survive the trip. An FP16 output (or BYTES that are not UTF-8) asked for as JSON
 * is INVALID_ARGUMENT: JSON has no form for it.
 */
export function encodeRestResponse(response: InferResponse, options: { readonly binaryOutputs: BinaryOutputs }): EncodedRestResponse {
  const { binaryOutputs } = options;
  const chunks: Uint8Array[] = [];
  const outputs = response.outputs.map((output) => {
    const { tensor } = output;
    const binary = binaryOutputs === 'all' || (binaryOutputs !== 'none' && binaryOutputs.has(output.name));
    let parameters = output.parameters ?? {};
    let data = '';
    if (binary) {
      const bytes = rawBytesOf(tensor);
      chunks.push(bytes);
      parameters = { ...parameters, binary_data_size: bytes.byteLength };
    } else data = `,"data":${jsonDataText(tensor, `output ${JSON.stringify(output.name)}`)}`;
    const parametersText = Object.keys(parameters).length > 0 ? `,"parameters":${restParametersText(parameters)}` : '';
    return `{"name":${JSON.stringify(output.name)},"datatype":"${oipDatatypeOf(tensor.dtype)}",` +
      `"shape":${formatShape(tensor.shape)}${parametersText}${data}}`;
  });
  let header = `{"model_name":${JSON.stringify(response.modelName)}`;
  if (response.modelVersion !== undefined) header += `,"model_version":${JSON.stringify(response.modelVersion)}`;
  if (response.id !== undefined && response.id !== '') header += `,"id":${JSON.stringify(response.id)}`;
  if (response.parameters !== undefined && Object.keys(response.parameters).length > 0) {
    header += `,"parameters":${restParametersText(response.parameters)}`;
  }
  header += `,"outputs":[${outputs.join(',')}]}`;
  const headerBytes = Buffer.from(header, 'utf8');
  if (chunks.length === 0) return { body: headerBytes, headerLength: null, contentType: 'application/json' };
  return {
    body: Buffer.concat([headerBytes, ...chunks]),
    headerLength: headerBytes.byteLength,
    contentType: 'application/octet-stream',
  };
}

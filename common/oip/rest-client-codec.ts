import type { Tensor } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { ElementBudget } from './element-budget.js';
import type { InferOutput, InferResponse } from './infer-messages.js';
import { readInputHeader } from './input-header.js';
import { readJsonData } from './json-tensor-data.js';
import { describeReceived, invalidField, isRecord } from './oip-errors.js';
import { rawByteLength, rawBytesOf, tensorFromRaw } from './raw-tensor-bytes.js';
import { INFERENCE_HEADER_CONTENT_LENGTH } from './rest-codec.js';
import { formatShape } from './tensor-shape.js';

export interface RestRequestOptions {
  readonly id?: string;
  /** Output names to ask for (default: every output of the model). */
  readonly outputs?: readonly string[];
  /** Ask for outputs as binary data after the JSON header (default true). */
  readonly binaryOutputs?: boolean;
}

/**
 * The client side of Triton's binary tensor extension: a JSON header naming each input with its
 * `binary_data_size`, then the inputs' raw bytes back to back. Tensors never become JSON numbers.
 */
export function encodeRestRequest(inputs: readonly { readonly name: string; readonly tensor: Tensor }[], options: RestRequestOptions = {}): { body: Buffer; headerLength: number } {
  const binaryOutputs = options.binaryOutputs ?? true;
  const chunks: Uint8Array[] = [];
  const header = {
    ...(options.id === undefined ? {} : { id: options.id }),
    parameters: { binary_data_output: binaryOutputs },
    inputs: inputs.map(({ name, tensor }) => {
      const bytes = rawBytesOf(tensor);
      chunks.push(bytes);
      return { name, datatype: oipDatatypeOf(tensor.dtype), shape: tensor.shape, parameters: { binary_data_size: bytes.byteLength } };
    }),
    ...(options.outputs === undefined ? {} : { outputs: options.outputs.map((name) => ({ name, parameters: { binary_data: binaryOutputs } })) }),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([headerBytes, ...chunks]), headerLength: headerBytes.byteLength };
}

/**
 * Decodes an inference response: all JSON (`headerLength` null), or a JSON header followed by the
 * binary data of the outputs that carry `parameters.binary_data_size`, in output order.
 */
export function decodeRestResponse(body: Uint8Array, headerLength: number | null): InferResponse {
  if (headerLength !== null && (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.byteLength)) {
    throw invalidField(INFERENCE_HEADER_CONTENT_LENGTH, `must be from 0 to the body's length (${body.byteLength}), got ${describeReceived(headerLength)}`);
  }
  const end = headerLength ?? body.byteLength;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, end).toString('utf8'));
  } catch (err) {
    throw invalidField('response', `not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(json)) throw invalidField('response', `must be a JSON object, got ${describeReceived(json)}`);
  const rawOutputs = json['outputs'];
  if (!Array.isArray(rawOutputs)) throw invalidField('outputs', `must be an array, got ${describeReceived(rawOutputs)}`);
  const binary = body.subarray(end);
  const budget = new ElementBudget({});
  const names = new Map<string, string>();
  let offset = 0;
  const outputs = rawOutputs.map((raw: unknown, i): InferOutput => {
    const field = `outputs[${i}]`;
    if (!isRecord(raw)) throw invalidField(field, `must be an object, got ${describeReceived(raw)}`);
    const { name, dtype, shape, count } = readInputHeader(raw, field, names, budget, false);
    const parameters = isRecord(raw['parameters']) ? raw['parameters'] : {};
    const size = parameters['binary_data_size'];
    if (size === undefined) return { name, tensor: readJsonData(raw['data'], dtype, shape, count, `${field}.data`) };
    const need = rawByteLength(dtype, count) ?? size;
    if (typeof need !== 'number' || need !== size || offset + need > binary.byteLength) {
      throw invalidField(`${field}.parameters.binary_data_size`, `${describeReceived(size)} does not fit ${oipDatatypeOf(dtype)} ${formatShape(shape)} in the ${binary.byteLength - offset} bytes left`);
    }
    const tensor = tensorFromRaw(dtype, shape, count, binary.subarray(offset, offset + need), `${field} binary data`);
    offset += need;
    return { name, tensor };
  });
  const text = (key: string): string | undefined => (typeof json[key] === 'string' ? json[key] : undefined);
  return {
    modelName: text('model_name') ?? '',
    ...(text('model_version') === undefined ? {} : { modelVersion: text('model_version')! }),
    ...(text('id') === undefined ? {} : { id: text('id')! }),
    outputs,
  };
}

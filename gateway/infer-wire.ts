import type * as grpc from '@grpc/grpc-js';
import { GridlineError } from '../common/errors.js';
import { dtypeOfOipDatatype, oipDatatypeOf } from '../common/oip/datatypes.js';
import { grpcParametersOf, readGrpcParameters } from '../common/oip/grpc-parameters.js';
import type { InferOutput, InferRequest, InferResponse } from '../common/oip/infer-messages.js';
import { invalidField } from '../common/oip/oip-errors.js';
import { rawBytesOf, tensorFromRaw } from '../common/oip/raw-tensor-bytes.js';
import { readShape } from '../common/oip/tensor-shape.js';
import { loadInferenceProto } from '../proto/load-inference-proto.js';
import type { ModelInferRequest } from '../proto/generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from '../proto/generated/inference/ModelInferResponse.js';

const identity = (b: Buffer): Buffer => b;

let rawService: grpc.ServiceDefinition | undefined;

/**
 * inference.GRPCInferenceService with ModelInfer carried as serialized bytes both ways: the gateway
 * forwards a gRPC client's request to a replica, and the replica's answer back, without decoding
 * the tensors. The other methods keep proto-loader's (de)serializers.
 */
export function rawInferenceService(): grpc.ServiceDefinition {
  if (rawService === undefined) {
    const service = loadInferenceProto().inference.GRPCInferenceService.service;
    rawService = {
      ...service,
      ModelInfer: {
        ...service.ModelInfer,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    };
  }
  return rawService;
}

export function serializeInferRequest(request: ModelInferRequest): Buffer {
  return loadInferenceProto().inference.GRPCInferenceService.service.ModelInfer.requestSerialize(request);
}

export function deserializeInferResponse(bytes: Buffer): ModelInferResponse__Output {
  return loadInferenceProto().inference.GRPCInferenceService.service.ModelInfer.responseDeserialize(bytes);
}

export interface ModelRef {
  readonly modelName: string;
  readonly modelVersion: string;
}

/**
 * model_name (1) and model_version (2) of a serialized ModelInferRequest, read from the top-level
 * fields only: the inputs and raw contents are skipped by their lengths, never decoded.
 */
export function readModelRef(bytes: Uint8Array): ModelRef {
  let modelName = '';
  let modelVersion = '';
  let pos = 0;
  const malformed = (): never => {
    throw invalidField('request', 'is not a valid ModelInferRequest message');
  };
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) malformed();
      const b = bytes[pos++] ?? 0;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    return malformed();
  };
  while (pos < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag % 8) {
      case 0: varint(); break;
      case 1: pos += 8; break;
      case 5: pos += 4; break;
      case 2: {
        const length = varint();
        const end = pos + length;
        if (end > bytes.length) malformed();
        if (field === 1 || field === 2) {
          const text = Buffer.from(bytes.buffer, bytes.byteOffset + pos, length).toString('utf8');
          if (field === 1) modelName = text;
          else modelVersion = text;
        }
        pos = end;
        break;
      }
      default: malformed();
    }
    if (pos > bytes.length) malformed();
  }
  return { modelName, modelVersion };
}

/** A decoded REST request as the ModelInferRequest a replica takes, every input as raw bytes. */
export function toModelInferRequest(modelName: string, modelVersion: string, request: InferRequest): ModelInferRequest {
  return {
    modelName,
    modelVersion,
    id: request.id,
    parameters: grpcParametersOf(request.parameters, 'parameters'),
    inputs: request.inputs.map((input, i) => ({
      name: input.name,
      datatype: oipDatatypeOf(input.tensor.dtype),
      shape: [...input.tensor.shape],
      parameters: grpcParametersOf(input.parameters, `inputs[${i}].parameters`),
    })),
    outputs: request.outputs.map((output, j) => ({
      name: output.name,
      parameters: grpcParametersOf(output.parameters, `outputs[${j}].parameters`),
    })),
    rawInputContents: request.inputs.map((input) => rawBytesOf(input.tensor)),
  };
}

/**
 * A replica's ModelInferResponse as an InferResponse for the REST encoder. A replica that answers
 * with something this cannot read is a replica fault: INTERNAL, naming the field.
 */
export function fromModelInferResponse(response: ModelInferResponse__Output): InferResponse {
  try {
    const raw = response.rawOutputContents;
    if (raw.length !== response.outputs.length) {
      throw invalidField('raw_output_contents', `holds ${raw.length} entries for ${response.outputs.length} outputs (the gateway needs raw outputs)`);
    }
    const outputs: InferOutput[] = response.outputs.map((output, i) => {
      const field = `outputs[${i}]`;
      const dtype = dtypeOfOipDatatype(output.datatype, `${field}.datatype`);
      const shape = readShape(output.shape, `${field}.shape`, true);
      let count = 1;
      for (const d of shape) count *= d;
      const tensor = tensorFromRaw(dtype, shape, count, raw[i] ?? Buffer.alloc(0), `raw_output_contents[${i}]`);
      const parameters = readGrpcParameters(output.parameters, `${field}.parameters`);
      return { name: output.name, tensor, parameters };
    });
    return {
      modelName: response.modelName,
      modelVersion: response.modelVersion === '' ? undefined : response.modelVersion,
      id: response.id,
      parameters: readGrpcParameters(response.parameters, 'parameters'),
      outputs,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new GridlineError('INTERNAL', `the replica's response cannot be read: ${message}`, { cause: err });
  }
}

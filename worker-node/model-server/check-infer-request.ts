import type { InferRequest } from '../../common/oip/infer-messages.js';
import { oipDatatypeOf } from '../../common/oip/datatypes.js';
import { invalidField } from '../../common/oip/oip-errors.js';
import type { Tensor } from '../../common/tensor.js';
import type { TensorInfo } from '../../services/model-serving/model-runtime.js';
import { onnxStringsProblem } from '../../services/model-serving/onnx-strings.js';

/** What a served model declares; every dtype is known (a model with an unknown one never gets ready). */
export interface ModelSignature {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

export interface CheckedRequest {
  readonly feeds: Record<string, Tensor>;
  /** The outputs to answer with, in the order to answer them. */
  readonly outputs: readonly string[];
}

/** OIP metadata shape: -1 for a variable dimension; [] when the model does not say. */
export function metadataShape(info: TensorInfo): number[] {
  return (info.shape ?? []).map((d) => d ?? -1);
}

function formatMetadataShape(info: TensorInfo): string {
  return `[${metadataShape(info).join(',')}]`;
}

/**
 * Checks a decoded request against the model's declared inputs and outputs: every input named
 * once and known, its datatype the model's, BYTES elements that onnxruntime can take unchanged,
 * its shape of the model's rank with each fixed dimension equal; every requested output known.
 * Throws INVALID_ARGUMENT whose message and `details.field` name the field (`inputs[1].datatype`, `outputs[0].name`), so no bad request
 * reaches the batcher, where it could only fail as a whole batch.
 */
export function checkInferRequest(signature: ModelSignature, request: InferRequest): CheckedRequest {
  const byName = new Map(signature.inputs.map((i) => [i.name, i]));
  const feeds: Record<string, Tensor> = {};
  request.inputs.forEach((input, i) => {
    const info = byName.get(input.name);
    if (info === undefined) {
      throw invalidField(`inputs[${i}].name`, `the model has no input ${JSON.stringify(input.name)} (its inputs: ${signature.inputs.map((s) => s.name).join(', ')})`);
    }
    const { tensor } = input;
    if (info.dtype !== null && tensor.dtype !== info.dtype) {
      throw invalidField(`inputs[${i}].datatype`, `is ${oipDatatypeOf(tensor.dtype)}, but input ${JSON.stringify(info.name)} takes ${oipDatatypeOf(info.dtype)}`);
    }
    if (tensor.dtype === 'string') {
      // Caught here, not in onnxruntime, where it would fail the whole batch (or change the bytes).
      const problem = onnxStringsProblem(tensor.data);
      if (problem !== null) throw invalidField(`inputs[${i}]`, `${problem} (input ${JSON.stringify(info.name)})`);
    }
    if (info.shape !== null) {
      const fits = tensor.shape.length === info.shape.length && info.shape.every((d, k) => d === null || d === tensor.shape[k]);
      if (!fits) {
        throw invalidField(`inputs[${i}].shape`, `is [${tensor.shape.join(',')}], but input ${JSON.stringify(info.name)} takes ${formatMetadataShape(info)} (-1: any size)`);
      }
    }
    feeds[info.name] = tensor;
  });
  const missing = signature.inputs.filter((info) => !Object.hasOwn(feeds, info.name));
  if (missing.length > 0) {
    throw invalidField('inputs', `missing ${missing.map((m) => `${JSON.stringify(m.name)} ${m.dtype === null ? '' : oipDatatypeOf(m.dtype)}${formatMetadataShape(m)}`).join(', ')}`);
  }
  const known = new Set(signature.outputs.map((o) => o.name));
  const outputs = request.outputs.length === 0
    ? signature.outputs.map((o) => o.name)
    : request.outputs.map((output, j) => {
      if (!known.has(output.name)) {
        throw invalidField(`outputs[${j}].name`, `the model has no output ${JSON.stringify(output.name)} (its outputs: ${[...known].join(', ')})`);
      }
      return output.name;
    });
  return { feeds, outputs };
}

import type { Tensor } from '../tensor.js';

/**
 * A parameter value. Integers are numbers while they are safe (|n| <= 2^53-1) and bigints beyond,
 * whichever protocol they came by, so `{"max_tokens": 16}` over REST and `int64_param: 16` over gRPC
 * read the same.
 */
export type InferParameterValue = boolean | number | bigint | string;

export type InferParameters = Readonly<Record<string, InferParameterValue>>;

export interface InferInput {
  readonly name: string;
  readonly tensor: Tensor;
  /** The client's parameters, less the transport ones the codec consumed (`binary_data_size`). */
  readonly parameters: InferParameters;
}

export interface RequestedOutput {
  readonly name: string;
  /** Whether the client wants this output as binary data (always true over gRPC: it is raw bytes). */
  readonly binary: boolean;
  /** The client's parameters, less the transport ones the codec consumed (`binary_data`). */
  readonly parameters: InferParameters;
}

/** An inference request as both codecs decode it; the model comes from the URL or the message. */
export interface InferRequest {
  /** '' when the client sent none. */
  readonly id: string;
  /** Request parameters, less `binary_data_output`, which `binaryOutputsByDefault` carries. */
  readonly parameters: InferParameters;
  readonly inputs: readonly InferInput[];
  /** Empty: the client wants every output of the model. */
  readonly outputs: readonly RequestedOutput[];
  /** Whether outputs the client did not list (or all, when `outputs` is empty) go as binary data. */
  readonly binaryOutputsByDefault: boolean;
}

export interface InferOutput {
  readonly name: string;
  readonly tensor: Tensor;
  readonly parameters?: InferParameters;
}

/** What a model produced, for the codecs to encode. */
export interface InferResponse {
  readonly modelName: string;
  readonly modelVersion?: string;
  /** The request's id; '' or absent: none. */
  readonly id?: string;
  readonly parameters?: InferParameters;
  readonly outputs: readonly InferOutput[];
}

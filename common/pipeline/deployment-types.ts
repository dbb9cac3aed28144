import type { ResourceRequest } from './types.js';

/**
 * A model served online on the cluster without a batch pipeline: the validated, normalized,
 * frozen form of a `kind: ModelDeployment` document. Its replicas are placed like pipeline stage
 * replicas and each one serves the model from its node's OIP model server.
 */
export interface ModelDeploymentSpec {
  readonly apiVersion: 'gridline/v1';
  readonly kind: 'ModelDeployment';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly model: DeployedModel;
  readonly replicas: number;
  readonly resources: ResourceRequest;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly batching: ServingBatching;
  /** Warm-up input shapes per input name, for a model whose symbolic dims cannot be 1. */
  readonly warmUpShapes: Readonly<Record<string, readonly number[]>>;
}

export interface DeployedModel {
  /** The name clients call it by (OIP model_name). */
  readonly name: string;
  /** OIP model_version. */
  readonly version: string;
  readonly runtime: 'onnx' | 'tfjs';
  /** `npm:<package>/<path>`, `file:<path>` or a plain path; resolved by the worker. */
  readonly uri: string;
}

/** The dynamic batcher of a served model (services/model-serving/batcher). */
export interface ServingBatching {
  /** Most rows in one batch; 1 turns batching off. */
  readonly maxBatchSize: number;
  /** How long a request may wait for its batch to fill once the model is free. */
  readonly maxDelayMs: number;
  /** Batch sizes run at once, without waiting for the delay. */
  readonly preferredBatchSizes: readonly number[];
  /** Requests waiting per replica beyond which a request is refused at once (429 / RESOURCE_EXHAUSTED). */
  readonly maxQueueSize: number;
  /** Deadline of a request that names none, in milliseconds. */
  readonly timeoutMs: number;
  /**
   * Input or output name -> the dimension requests are concatenated and results split along, or
   * null for a tensor that is not batched (equal in every request of a batch). Unlisted tensors
   * batch along dim 0 when the model declares it variable.
   */
  readonly batchDims: Readonly<Record<string, number | null>>;
}

import type { DynamicBatcherOptions } from '../../services/model-serving/batcher/batcher-options.js';

/** Batching of one served model: the batcher's options, every one optional. */
export type ModelBatchingOptions = Partial<Omit<DynamicBatcherOptions, 'name'>>;

/**
 * The model server's defaults, Triton-like: small batches and no wait to fill them. Batches still
 * grow while the model is busy (requests queue behind the running batch), so a lone request pays
 * no delay and a loaded model runs full batches.
 */
export const DEFAULT_MODEL_BATCHING = Object.freeze({ maxBatchSize: 8, maxQueueDelayMs: 0, maxQueueSize: 1024 });

/** One model the server serves. */
export interface ServedModelSpec {
  /** The name clients call it by (OIP `model_name`). */
  readonly name: string;
  /** OIP `model_version` (default '1'); a request naming another version gets NOT_FOUND. */
  readonly version?: string;
  /** `npm:<package>/<path>`, `file:<path>` or a plain path (services/model-serving/resolve-uri.ts). */
  readonly uri: string;
  /** Over DEFAULT_MODEL_BATCHING. */
  readonly batching?: ModelBatchingOptions;
  /**
   * Warm-up input shapes, per input name, for a model that cannot run the default: zeros with
   * every variable dimension 1 ([] for an input of unknown shape).
   */
  readonly warmUpShapes?: Readonly<Record<string, readonly number[]>>;
  /**
   * Tensor name -> batch dimension (null: not batched), for inputs and outputs alike; split into
   * the batcher's `inputs` and `outputs` once the model's signature is known.
   */
  readonly batchDims?: Readonly<Record<string, number | null>>;
  /** Try the CUDA execution provider (default false). */
  readonly useGpu?: boolean;
}

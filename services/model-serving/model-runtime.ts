import type { DType, Tensor } from '../../common/tensor.js';

/** A model input or output as the runtime declares it. */
export interface TensorInfo {
  readonly name: string;
  /** Null: a type gridline's Tensor cannot hold (bfloat16, ...), or not a tensor. */
  readonly dtype: DType | null;
  /** Null per dimension when symbolic (e.g. the batch size); null altogether when unknown. */
  readonly shape: readonly (number | null)[] | null;
}

/** A loaded model, whatever runs it. */
export interface ModelRuntime {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Runs the model once; feeds are keyed by input name, results by output name. */
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** Releases the model; later calls to close do nothing. */
  close(): Promise<void>;
  /** False once the runtime can no longer run anything (its thread died); absent means always usable. */
  healthy?(): boolean;
}

import type { ServingSpec } from '../../common/replica-spec.js';
import type { ModelRuntime } from './model-runtime.js';

/** Priority of pipeline items in a served model's batcher: online requests (0) go first. */
export const PIPELINE_PRIORITY = 1;

/** A hold on a model served at the node's model server; the model stays served while any is held. */
export interface ServingLease {
  /** Settles once the model loaded and warmed up; rejects with the reason it could not. */
  readonly ready: Promise<void>;
  /**
   * The served model as a runtime for pipeline items: runs go through its dynamic batcher at
   * PIPELINE_PRIORITY, sharing batches with online requests; a batch larger than the batcher's
   * maximum runs on the session directly. Only valid once `ready` settled.
   */
  runtime(): ModelRuntime;
  /** Calls `listener` if the served model stops being servable after it was ready (its session died). */
  onFailure(listener: (reason: string) => void): void;
  release(): Promise<void>;
}

/**
 * The node's online model server as the stage services see it (worker-node implements it), so
 * an exposed model stage and a ModelDeployment replica share one session and one batcher.
 */
export interface ServingHost {
  /** Serves `spec` (idempotent by model name; a different uri or version under a held name is refused). */
  acquire(spec: ServingSpec, options: { useGpu: boolean }): ServingLease;
}

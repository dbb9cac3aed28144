import { GridlineError } from '../../common/errors.js';
import type { ServingSpec } from '../../common/replica-spec.js';
import type { Tensor } from '../../common/tensor.js';
import type { FileAccess } from '../../services/file-access/file-access.js';
import type { ModelRuntime } from '../../services/model-serving/model-runtime.js';
import { resolveModelUri } from '../../services/model-serving/resolve-uri.js';
import { PIPELINE_PRIORITY, type ServingHost, type ServingLease } from '../../services/model-serving/serving-host.js';
import type { ModelServer } from './model-server.js';
import type { ServedModel } from './served-model.js';
import type { ServedModelSpec } from './served-model-spec.js';

/** The model server's spec of a replica's ServingSpec. */
export function servedModelSpec(spec: ServingSpec, useGpu: boolean): ServedModelSpec {
  const b = spec.batching;
  return {
    name: spec.model.name,
    version: spec.model.version,
    uri: spec.model.uri,
    useGpu,
    warmUpShapes: spec.warmUpShapes,
    batchDims: spec.batching.batchDims ?? {},
    batching: {
      maxBatchSize: b.maxBatchSize,
      maxQueueDelayMs: b.maxDelayMs,
      ...(b.preferredBatchSizes.length > 0 ? { preferredBatchSizes: b.preferredBatchSizes } : {}),
      maxQueueSize: b.maxQueueSize,
      defaultTimeoutMs: b.timeoutMs,
    },
  };
}

/**
 * How long pipeline items wait behind online requests before their chunk fails (retryable, so
 * BullMQ retries it with backoff): online traffic goes first, but a chunk must not wait forever.
 */
const PIPELINE_TIMEOUT_MS = 120_000;

/** A served model as a runtime for pipeline items: batched at low priority, oversized batches direct. */
function pipelineRuntime(model: ServedModel): ModelRuntime {
  const signature = model.signature;
  if (signature === null) throw model.notReadyError();
  return {
    inputs: signature.inputs,
    outputs: signature.outputs,
    run: (feeds: Record<string, Tensor>) => {
      const rows = Object.values(feeds)[0]?.shape[0] ?? 1;
      return rows > model.maxBatchSize
        ? model.runUnbatched(feeds)
        : model.infer(feeds, { priority: PIPELINE_PRIORITY, timeoutMs: PIPELINE_TIMEOUT_MS });
    },
    // The session belongs to the model server; releasing the lease is what lets it go.
    close: () => Promise.resolve(),
    healthy: () => model.healthy(),
  };
}

/**
 * The node's model server as services/ sees it. With `access`, a placed model (a deployment's, an
 * exposed stage's) whose file lies outside the node's allowed directories is refused.
 */
export function modelServerHost(server: ModelServer, access?: FileAccess): ServingHost {
  return {
    acquire(spec, { useGpu }): ServingLease {
      let hold: ReturnType<ModelServer['acquire']>;
      try {
        if (access !== undefined) resolveModelUri(spec.model.uri, { access });
        hold = server.acquire(servedModelSpec(spec, useGpu));
      } catch (err) {
        return { ready: Promise.reject(err as Error), runtime: () => { throw err; }, onFailure: () => undefined, release: () => Promise.resolve() };
      }
      const { model } = hold;
      const ready = model.loaded.then((ok) => {
        if (!ok) {
          const { state, reason } = model.status();
          throw new GridlineError('MODEL_LOAD_FAILED', `model ${model.name} version ${model.version} is not ready (${state}): ${reason}`);
        }
      });
      // Callers may never await `ready` (a replica stopped while loading): no unhandled rejection.
      ready.catch(() => undefined);
      return { ready, runtime: () => pipelineRuntime(model), onFailure: (listener) => void model.onFailure(listener), release: () => hold.release() };
    },
  };
}

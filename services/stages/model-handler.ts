import type { ModelServingStage } from '../../common/pipeline/types.js';
import type { ServingSpec } from '../../common/replica-spec.js';
import type { OpContext } from '../preprocessing/op.js';
import { createModelExecutor, type ModelExecutor } from '../model-serving/model-executor.js';
import type { RuntimeCache } from '../model-serving/runtime-cache.js';
import type { ServingHost } from '../model-serving/serving-host.js';
import type { ChunkHandler } from './chunk-handler.js';

interface Opened {
  readonly executor: ModelExecutor;
  release(): Promise<void> | void;
  /** False once the session died (its thread crashed). */
  healthy(): boolean;
}

export interface ModelHandlerDeps {
  readonly useGpu: boolean;
  readonly runtimes: RuntimeCache;
  /** The node's model server; with `serving`, the stage's model is also served online there. */
  readonly serving?: ServingHost;
}

/**
 * Runs each chunk through the stage's model as batches. The session comes from the node's cache;
 * an exposed stage (`serving` set) runs its items through the node's served model instead, at a
 * lower priority than online requests, so both share one session and one batcher.
 */
export async function createModelHandler(stage: ModelServingStage, ctx: OpContext, deps: ModelHandlerDeps, serving: ServingSpec | null = null): Promise<ChunkHandler> {
  const open = async (): Promise<Opened> => {
    if (serving !== null && deps.serving !== undefined) {
      const lease = deps.serving.acquire(serving, { useGpu: deps.useGpu });
      try {
        await lease.ready;
        const runtime = lease.runtime();
        return { executor: await createModelExecutor(stage, runtime, ctx), release: () => lease.release(), healthy: () => runtime.healthy?.() !== false };
      } catch (err) {
        await lease.release();
        throw err;
      }
    }
    const lease = await deps.runtimes.acquire(ctx.resolveUri(stage.model.uri), deps.useGpu, ctx.logger);
    try {
      const { runtime } = lease;
      return { executor: await createModelExecutor(stage, runtime, ctx), release: () => lease.release(), healthy: () => runtime.healthy?.() !== false };
    } catch (err) {
      lease.release();
      throw err;
    }
  };
  let current = await open();
  return {
    async process(items) {
      if (!current.healthy()) {
        // The session died (its thread crashed): take a fresh one rather than failing every item.
        ctx.logger.warn({ model: stage.model.name }, 'model session died: loading it again');
        const dead = current;
        current = await open();
        await dead.executor.close().finally(() => dead.release());
      }
      return current.executor.process(items);
    },
    async close() {
      try {
        await current.executor.close();
      } finally {
        await current.release();
      }
    },
  };
}

import type { ModelServingStage } from '../../common/pipeline/types.js';
import type { OpContext } from '../preprocessing/op.js';
import { createModelExecutor, type ModelExecutor } from '../model-serving/model-executor.js';
import { resolveModelUri } from '../model-serving/resolve-uri.js';
import type { RuntimeCache, RuntimeLease } from '../model-serving/runtime-cache.js';
import type { ChunkHandler } from './chunk-handler.js';

/** Runs each chunk through the stage's model as batches; the session comes from the node's cache. */
export async function createModelHandler(stage: ModelServingStage, ctx: OpContext, useGpu: boolean, runtimes: RuntimeCache): Promise<ChunkHandler> {
  const path = resolveModelUri(stage.model.uri);
  const open = async (): Promise<{ lease: RuntimeLease; executor: ModelExecutor }> => {
    const lease = await runtimes.acquire(path, useGpu, ctx.logger);
    try {
      return { lease, executor: await createModelExecutor(stage, lease.runtime, ctx) };
    } catch (err) {
      lease.release();
      throw err;
    }
  };
  let current = await open();
  return {
    async process(items) {
      if (current.lease.runtime.healthy?.() === false) {
        // The session died (its thread crashed): take a fresh one rather than failing every item.
        ctx.logger.warn({ model: stage.model.name }, 'model session died: loading it again');
        const dead = current;
        current = await open();
        await dead.executor.close().finally(() => dead.lease.release());
      }
      return current.executor.process(items);
    },
    async close() {
      try {
        await current.executor.close();
      } finally {
        current.lease.release();
      }
    },
  };
}

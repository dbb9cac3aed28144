import type { ModelServingStage } from '../../common/pipeline/types.js';
import type { OpContext } from '../preprocessing/op.js';
import { createModelExecutor } from '../model-serving/model-executor.js';
import { resolveModelUri } from '../model-serving/resolve-uri.js';
import type { RuntimeCache } from '../model-serving/runtime-cache.js';
import type { ChunkHandler } from './chunk-handler.js';

/** Runs each chunk through the stage's model as batches; the session comes from the node's cache. */
export async function createModelHandler(stage: ModelServingStage, ctx: OpContext, useGpu: boolean, runtimes: RuntimeCache): Promise<ChunkHandler> {
  const path = resolveModelUri(stage.model.uri);
  const lease = await runtimes.acquire(path, useGpu, ctx.logger);
  let executor: Awaited<ReturnType<typeof createModelExecutor>>;
  try {
    executor = await createModelExecutor(stage, lease.runtime, ctx);
  } catch (err) {
    lease.release();
    throw err;
  }
  return {
    process: (items) => executor.process(items),
    async close() {
      await executor.close();
      lease.release();
    },
  };
}

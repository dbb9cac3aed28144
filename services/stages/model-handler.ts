import type { ModelServingStage } from '../../common/pipeline/types.js';
import type { OpContext } from '../preprocessing/op.js';
import { createModelExecutor } from '../model-serving/model-executor.js';
import { createThreadedOnnxRuntime } from '../model-serving/threaded-runtime.js';
import { resolveModelUri } from '../model-serving/resolve-uri.js';
import type { ChunkHandler } from './chunk-handler.js';

/** Loads the stage's model once per replica and runs each chunk through it as batches. */
export async function createModelHandler(stage: ModelServingStage, ctx: OpContext, useGpu: boolean): Promise<ChunkHandler> {
  const path = resolveModelUri(stage.model.uri);
  const runtime = await createThreadedOnnxRuntime(path, { useGpu, logger: ctx.logger });
  const executor = await createModelExecutor(stage, runtime, ctx);
  return {
    process: (items) => executor.process(items),
    async close() {
      await executor.close();
      await runtime.close();
    },
  };
}

import { isGridlineError, toGridlineError, type GridlineError } from '../../common/errors.js';
import type { OpSpec } from '../../common/pipeline/types.js';
import type { OpContext, Op } from '../preprocessing/op.js';
import { createOp, runOps } from '../preprocessing/op-registry.js';
import type { ChunkHandler } from './chunk-handler.js';

/** Runs a preprocessing stage's ops on each item of a chunk, item by item. */
export async function createPreprocessingHandler(specs: readonly OpSpec[], ctx: OpContext): Promise<ChunkHandler> {
  const ops: Op[] = [];
  for (const spec of specs) ops.push(await createOp(spec, ctx));
  return {
    async process(items) {
      const results: (GridlineError | null)[] = [];
      for (const item of items) {
        try {
          await runOps(ops, item);
          results.push(null);
        } catch (err) {
          // Bad data fails the item; anything retryable fails the chunk so it is retried.
          if (isGridlineError(err) && err.retryable) throw err;
          results.push(toGridlineError(err, 'INVALID_ITEM'));
        }
      }
      return results;
    },
    async close() {
      await Promise.all(ops.map((op) => op.close?.()));
    },
  };
}

import { basename } from 'node:path';
import { GridlineError, isGridlineError } from '../../../common/errors.js';
import { MODULE_OP } from '../../../common/ops/declarations.js';
import type { OpFactory, OpParams } from '../op.js';
import { checkCustomOp, loadOpModule } from '../op-module.js';

/**
 * module: a custom op from a JavaScript module in one of the worker's op-module folders. Its
 * createOp gets the `params` of the entry; what it returns is applied to each item.
 */
export const moduleOp: OpFactory<OpParams<'module'>> = {
  name: MODULE_OP,
  async create(p, ctx) {
    const createOp = await loadOpModule(p.path, ctx.fileAccess);
    const name = `module ${basename(p.path)}`;
    let created: unknown;
    try {
      created = await createOp(p.params, { logger: ctx.logger.child({ op: name }), resolveUri: (uri) => ctx.resolveUri(uri) });
    } catch (err) {
      // A module refusing its params is a pipeline problem; gridline's own errors keep their code.
      if (isGridlineError(err)) throw err;
      throw new GridlineError('INVALID_PIPELINE', `op module ${p.path}: createOp failed: ${(err as Error).message ?? String(err)}`, { cause: err });
    }
    const op = checkCustomOp(p.path, created);
    return {
      name,
      async apply(item) {
        await op.apply(item);
      },
      async close() {
        await op.close?.();
      },
    };
  },
};

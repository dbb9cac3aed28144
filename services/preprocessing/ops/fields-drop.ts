import type { OpFactory, OpParams } from '../op.js';

/** fields.drop: removes binary fields so they stop travelling to later stages; absent ones are ignored. */
export const fieldsDropOp: OpFactory<OpParams<'fields.drop'>> = {
  name: 'fields.drop',
  create({ fields }) {
    return {
      name: 'fields.drop',
      apply(item) {
        for (const f of fields) item.delete(f);
        return Promise.resolve();
      },
    };
  },
};

import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { WorkItem } from '../../items/work-item.js';
import { createOp } from '../op-registry.js';

describe('fields.drop', () => {
  it('deletes the named fields and ignores absent ones', async () => {
    const item = new WorkItem({ id: '1', key: 'k' });
    item.setBytes('file', Buffer.from('x'));
    item.setBytes('keep', Buffer.from('y'));
    const op = await createOp({ op: 'fields.drop', params: { fields: ['file', 'missing'] } }, { logger: silentLogger, resolveUri: (u) => u });
    await op.apply(item);
    expect(item.fieldNames()).toEqual(['keep']);
  });
});

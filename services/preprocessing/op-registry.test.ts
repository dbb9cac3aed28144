import { describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { opNames } from '../../common/ops/declarations.js';
import { WorkItem } from '../items/work-item.js';
import type { Op, OpContext } from './op.js';
import { createOp, registeredOpNames, runOps } from './op-registry.js';

const ctx: OpContext = { logger: silentLogger, resolveUri: (uri) => uri };

describe('op registry', () => {
  it('implements exactly the declared ops', () => {
    const registered = registeredOpNames();
    expect(new Set(registered).size).toBe(registered.length);
    for (const name of opNames()) expect(registered).toContain(name);
    for (const name of registered) expect(opNames()).toContain(name);
    expect([...registered].sort()).toEqual([...opNames()].sort());
  });

  it('rejects an unknown op, listing the known ones', async () => {
    const err = await createOp({ op: 'image.blur', params: {} }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GridlineError);
    expect(err).toMatchObject({ code: 'UNKNOWN_OP' });
    expect((err as Error).message).toContain('image.blur');
    for (const name of opNames()) expect((err as Error).message).toContain(name);
  });

  it('parses params with the declaration schema (defaults, strictness)', async () => {
    const op = await createOp({ op: 'fields.drop', params: { fields: ['a'] } }, ctx);
    expect(op.name).toBe('fields.drop');
    await expect(createOp({ op: 'image.resize', params: { maxSide: -1 } }, ctx)).rejects.toMatchObject({ code: 'INVALID_PIPELINE' });
    await expect(createOp({ op: 'fields.drop', params: { fields: ['a'], extra: 1 } }, ctx)).rejects.toMatchObject({ code: 'INVALID_PIPELINE' });
  });

  it('runs ops in order and names the failing op', async () => {
    const seen: string[] = [];
    const step = (name: string, fail = false): Op => ({
      name,
      apply() {
        seen.push(name);
        return fail ? Promise.reject(new GridlineError('INVALID_ITEM', 'bad pixels')) : Promise.resolve();
      },
    });
    const item = new WorkItem({ id: '1', key: 'k' });
    await runOps([step('a'), step('b')], item);
    expect(seen).toEqual(['a', 'b']);
    const err = await runOps([step('c', true), step('d')], item).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ITEM', message: 'c: bad pixels' });
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('turns unexpected exceptions into INTERNAL errors', async () => {
    const boom: Op = { name: 'boom', apply: () => Promise.reject(new TypeError('oops')) };
    await expect(runOps([boom], new WorkItem({ id: '1', key: 'k' }))).rejects.toMatchObject({ code: 'INTERNAL', message: 'boom: oops' });
  });
});

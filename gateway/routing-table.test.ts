import { describe, expect, it, vi } from 'vitest';
import { RoutingTable } from './routing-table.js';

const r = (id: string, port: number, ready = true) => ({ id, address: `127.0.0.1:${port}`, ready });

describe('RoutingTable', () => {
  it('applies a snapshot, then deltas, and tells listeners', () => {
    const table = new RoutingTable();
    const listener = vi.fn();
    table.onChange(listener);
    table.apply({ kind: 'snapshot', revision: 1, models: [{ model: 'a', version: '1', replicas: [r('a1', 1001)] }] });
    expect(table.lookup('a', '1')?.replicas.map((x) => x.id)).toEqual(['a1']);
    table.apply({ kind: 'delta', revision: 2, upsert: [{ model: 'b', version: '1', replicas: [r('b1', 1002, false)] }] });
    expect(table.routes().map((x) => x.model)).toEqual(['a', 'b']);
    expect([...table.addresses()].sort()).toEqual(['127.0.0.1:1001', '127.0.0.1:1002']);
    table.apply({ kind: 'delta', revision: 3, remove: [{ model: 'a', version: '1' }] });
    expect(table.hasModel('a')).toBe(false);
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('ignores a stale delta but always takes a snapshot', () => {
    const table = new RoutingTable();
    table.apply({ kind: 'snapshot', revision: 5, models: [{ model: 'a', version: '1', replicas: [r('a1', 1001)] }] });
    table.apply({ kind: 'delta', revision: 4, remove: [{ model: 'a', version: '1' }] });
    expect(table.hasModel('a')).toBe(true);
    table.apply({ kind: 'snapshot', revision: 1, models: [] });
    expect(table.routes()).toEqual([]);
  });

  it('picks the highest version with a ready replica when no version is named', () => {
    const table = new RoutingTable([
      { model: 'm', version: '9', replicas: [r('x', 1001)] },
      { model: 'm', version: '10', replicas: [r('y', 1002, false)] },
      { model: 'm', version: '2', replicas: [r('z', 1003)] },
    ]);
    expect(table.lookup('m', '')?.version).toBe('9');
    expect(table.lookup('m', '10')?.version).toBe('10');
    expect(table.lookup('m', '3')).toBeUndefined();
  });

  it('rejects a bad update whole, naming the field', () => {
    const table = new RoutingTable([{ model: 'm', version: '1', replicas: [r('x', 1001)] }]);
    expect(() => table.apply({ kind: 'snapshot', models: [{ model: 'm', version: '1', replicas: [r('x', 1001), { id: 'y', address: 'nohost', ready: true }] }] }))
      .toThrow(/models\[0\]: replicas\[1\]\.address must be host:port/);
    expect(() => table.apply({ kind: 'delta', upsert: [{ model: 'm', version: '1', replicas: [r('x', 1), r('x', 2)] }] }))
      .toThrow(/listed twice/);
    expect(table.lookup('m', '1')?.replicas).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { ReplicaClientPool } from './replica-client-pool.js';
import { RoutingTable } from './routing-table.js';

describe('ReplicaClientPool', () => {
  it('creates one client per address lazily and closes those that leave the table', () => {
    const table = new RoutingTable([
      { model: 'a', version: '1', replicas: [{ id: 'a1', address: '127.0.0.1:7001', ready: true }, { id: 'a2', address: '127.0.0.1:7002', ready: true }] },
      { model: 'b', version: '1', replicas: [{ id: 'b1', address: '127.0.0.1:7001', ready: true }] },
    ]);
    const pool = new ReplicaClientPool(table);
    expect(pool.openAddresses()).toEqual([]);
    const first = pool.get('127.0.0.1:7001');
    expect(pool.get('127.0.0.1:7001')).toBe(first);
    pool.get('127.0.0.1:7002');
    table.apply({ kind: 'delta', remove: [{ model: 'a', version: '1' }] });
    expect(pool.openAddresses()).toEqual(['127.0.0.1:7001']);
    table.apply({ kind: 'snapshot', models: [] });
    expect(pool.openAddresses()).toEqual([]);
    pool.close();
  });
});

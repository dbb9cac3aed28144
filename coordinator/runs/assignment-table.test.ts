import { describe, expect, it } from 'vitest';
import type { Assignment } from './assignment.js';
import { AssignmentTable } from './assignment-table.js';

const on = (replicaId: string, nodeId: string | null): Assignment => ({ replicaId, nodeId } as unknown as Assignment);

describe('AssignmentTable', () => {
  it('indexes replicas by node through binds, moves, unbinds and deletes', () => {
    const t = new AssignmentTable();
    t.set('r1', on('r1', 'a')).set('r2', on('r2', 'a')).set('r3', on('r3', null));
    expect([...t.onNode('a')]).toEqual(['r1', 'r2']);
    t.set('r2', on('r2', 'b'));
    expect([...t.onNode('a')]).toEqual(['r1']);
    expect([...t.onNode('b')]).toEqual(['r2']);
    t.set('r1', on('r1', null));
    expect(t.onNode('a').size).toBe(0);
    expect(t.delete('r2')).toBe(true);
    expect(t.onNode('b').size).toBe(0);
    expect(t.delete('nope')).toBe(false);
    expect(t.size).toBe(2);
    expect([...t.values()].map((a) => a.replicaId)).toEqual(['r1', 'r3']);
  });
});

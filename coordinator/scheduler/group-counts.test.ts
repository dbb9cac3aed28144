import { describe, expect, it } from 'vitest';
import { GroupCounts } from './group-counts.js';

describe('GroupCounts', () => {
  it('counts replicas per group and node', () => {
    const counts = new GroupCounts(4);
    expect(counts.add('g', 1)).toBe(0);
    expect(counts.add('g', 1)).toBe(1);
    expect(counts.add('g', 3)).toBe(0);
    expect(counts.add('h', 0)).toBe(0);
    expect([counts.count('g', 1), counts.count('g', 3), counts.count('g', 0), counts.count('x', 0)]).toEqual([2, 1, 0, 0]);
    expect(counts.nodeCount('g')).toBe(2);
    const seen: [number, number][] = [];
    counts.forEach('g', (node, count) => seen.push([node, count]));
    expect(seen).toEqual([
      [1, 2],
      [3, 1],
    ]);
  });

  it('lends a per-node array and clears it on release', () => {
    const counts = new GroupCounts(4);
    counts.add('g', 2);
    const spread = counts.acquire('g');
    expect([...spread]).toEqual([0, 0, 1, 0]);
    counts.add('g', 0);
    counts.release('g');
    expect([...counts.acquire('h')]).toEqual([0, 0, 0, 0]);
    counts.release('h');
  });

  it('turns a group on many nodes dense, and keeps counting', () => {
    const counts = new GroupCounts(100);
    for (let node = 0; node < 70; node += 1) counts.add('big', node);
    const dense = counts.acquire('big');
    expect(dense.reduce((a, b) => a + b, 0)).toBe(70);
    counts.release('big');
    expect(counts.add('big', 5)).toBe(1);
    expect(counts.acquire('big')).toBe(dense);
    expect(dense[5]).toBe(2);
    expect(counts.nodeCount('big')).toBe(70);
    expect(counts.count('big', 5)).toBe(2);
    let visited = 0;
    counts.forEach('big', () => (visited += 1));
    expect(visited).toBe(70);
    // Other groups still get a clean scratch array.
    expect(counts.acquire('small').every((v) => v === 0)).toBe(true);
  });

  it('keeps a live dense view and node list for filters', () => {
    const counts = new GroupCounts(4);
    counts.add('g', 2);
    const live = counts.live('g');
    const nodes = counts.nodesOf('g');
    counts.add('g', 0);
    counts.add('g', 2);
    expect([...live]).toEqual([1, 0, 2, 0]);
    expect([...nodes]).toEqual([2, 0]);
    expect(counts.acquire('g')).toBe(live);
    counts.release('g');
    expect([...counts.live('unseen')]).toEqual([0, 0, 0, 0]);
    expect(counts.nodesOf('unseen')).toEqual([]);
  });
});

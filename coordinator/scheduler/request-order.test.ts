import { describe, expect, it } from 'vitest';
import { replica } from './in-memory-cluster.js';
import { affinityLayers, compareRequests, orderRequests } from './request-order.js';

describe('compareRequests', () => {
  it('puts whole GPUs first, then shared GPU memory, then CPU, then replicaId', () => {
    const requests = [
      replica('cpu-b', { cpu: 64 }),
      replica('cpu-a'),
      replica('shared-small', { gpu: 1, gpuMemory: '4Gi' }),
      replica('shared-2x', { gpu: 2, gpuMemory: '8Gi' }),
      replica('shared-big', { gpu: 1, gpuMemory: '40Gi' }),
      replica('whole-1', { gpu: 1 }),
      replica('whole-4', { gpu: 4 }),
      replica('preferred', { gpu: 1, gpuMemory: '4Gi', gpuPolicy: 'preferred' }),
    ];
    expect([...requests].sort(compareRequests).map((r) => r.replicaId)).toEqual([
      'whole-4',
      'whole-1',
      'shared-big',
      'shared-2x',
      'preferred',
      'shared-small',
      'cpu-a',
      'cpu-b',
    ]);
  });

  it('places affinity targets first, whatever their resources', () => {
    const requests = [
      replica('model-0', { group: 'r/model', gpu: 1, affinity: ['r/prep', 'r/tok'] }),
      replica('tok-0', { group: 'r/tok', affinity: ['r/prep', 'r/gone'] }),
      replica('prep-1', { group: 'r/prep' }),
      replica('prep-0', { group: 'r/prep' }),
      replica('other', { group: 'r/other', gpu: 2 }),
    ];
    expect(orderRequests(requests).map((r) => r.replicaId)).toEqual(['other', 'prep-0', 'prep-1', 'tok-0', 'model-0']);
  });

  it('cuts an affinity cycle the same way in any input order', () => {
    const requests = [
      replica('a', { group: 'a', affinity: ['b'] }),
      replica('b', { group: 'b', affinity: ['c'] }),
      replica('c', { group: 'c', affinity: ['a', 'c'] }),
    ];
    const layers = affinityLayers(requests);
    expect(layers).toEqual(affinityLayers([...requests].reverse()));
    expect([...(layers ?? new Map<string, number>())].sort()).toEqual([
      ['a', 2],
      ['b', 1],
      ['c', 0],
    ]);
    expect(affinityLayers([replica('x')])).toBeNull();
  });
});

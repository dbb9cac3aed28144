import { describe, expect, it } from 'vitest';
import { replica } from './in-memory-cluster.js';
import { compareRequests } from './request-order.js';

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
});

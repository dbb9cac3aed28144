import { describe, expect, it } from 'vitest';
import {
  assertHonoursRequests,
  assertNoOvercommit,
  assertUnplacedFitNowhere,
  cluster,
  replica,
} from './in-memory-cluster.js';
import type { Placement, PlacementResult } from './types.js';

const GiB = 2 ** 30;

const nodes = cluster()
  .node('a', { cpu: 4, memory: '8Gi', gpus: ['A100-40GB'], labels: { zone: 'eu' } })
  .node('b', { cpu: 2, memory: '4Gi', state: 'draining' })
  .build();

function result(placements: Placement[], unplaced: string[] = []): PlacementResult {
  return { placements, unplaced: unplaced.map((replicaId) => ({ replicaId, summary: 's', reasons: [] })) };
}

describe('cluster()', () => {
  it('builds node views, reading GPU memory from the model name', () => {
    expect(nodes).toEqual([
      { id: 'a', state: 'ready', cpu: 4, memory: 8 * GiB, gpus: [{ index: 0, model: 'A100-40GB', memory: 40 * GiB }], labels: { zone: 'eu' } },
      { id: 'b', state: 'draining', cpu: 2, memory: 4 * GiB, gpus: [], labels: {} },
    ]);
    expect(cluster().nodes('n', 2, { cpu: 1, memory: 0, gpus: [{ model: 'L4', memory: '24Gi' }] }).build().map((n) => [n.id, n.gpus[0]?.memory])).toEqual([
      ['n-0', 24 * GiB],
      ['n-1', 24 * GiB],
    ]);
    expect(() => cluster().node('x', { cpu: 1, memory: 0, gpus: ['T4'] })).toThrow(/does not end in its memory/);
  });

  it('fills request defaults', () => {
    expect(replica('r')).toEqual({
      replicaId: 'r',
      group: 'g',
      resources: { cpu: 1, memory: 0, gpu: 0, gpuMemory: 0, gpuModel: null, gpuPolicy: 'required' },
      nodeSelector: {},
    });
  });
});

describe('assertNoOvercommit', () => {
  it('accepts a plan within capacity', () => {
    const plan = result([
      { replicaId: 'r1', nodeId: 'a', cpu: 2, memory: 4 * GiB, gpus: [{ index: 0, memory: 20 * GiB }] },
      { replicaId: 'r2', nodeId: 'a', cpu: 2, memory: 4 * GiB, gpus: [{ index: 0, memory: 20 * GiB }] },
    ]);
    expect(() => assertNoOvercommit(nodes, [], plan)).not.toThrow();
  });

  it.each([
    ['cpu', [{ replicaId: 'r', nodeId: 'a', cpu: 5, memory: 0, gpus: [] }], /a cpu 5 > 4/],
    ['memory', [{ replicaId: 'r', nodeId: 'a', cpu: 1, memory: 9 * GiB, gpus: [] }], /a memory/],
    ['GPU memory', [{ replicaId: 'r', nodeId: 'a', cpu: 1, memory: 0, gpus: [{ index: 0, memory: 41 * GiB }] }], /GPU 0 memory/],
    ['a missing GPU', [{ replicaId: 'r', nodeId: 'a', cpu: 1, memory: 0, gpus: [{ index: 3, memory: GiB }] }], /missing GPU 3/],
    ['a draining node', [{ replicaId: 'r', nodeId: 'b', cpu: 1, memory: 0, gpus: [] }], /draining node b/],
    [
      'a shared whole GPU',
      [
        { replicaId: 'r1', nodeId: 'a', cpu: 0, memory: 0, gpus: [{ index: 0, memory: 40 * GiB }] },
        { replicaId: 'r2', nodeId: 'a', cpu: 0, memory: 0, gpus: [{ index: 0, memory: 0 }] },
      ],
      /claimed whole/,
    ],
    [
      'a replica placed twice',
      [
        { replicaId: 'r', nodeId: 'a', cpu: 1, memory: 0, gpus: [] },
        { replicaId: 'r', nodeId: 'a', cpu: 1, memory: 0, gpus: [] },
      ],
      /r appears twice/,
    ],
  ] as const)('catches %s', (_what, placements, message) => {
    expect(() => assertNoOvercommit(nodes, [], result([...placements]))).toThrow(message);
  });

  it('counts existing placements', () => {
    const existing: Placement[] = [{ replicaId: 'old', nodeId: 'a', cpu: 3, memory: 0, gpus: [] }];
    expect(() => assertNoOvercommit(nodes, existing, result([{ replicaId: 'r', nodeId: 'a', cpu: 2, memory: 0, gpus: [] }]))).toThrow(/cpu 5 > 4/);
  });
});

describe('assertUnplacedFitNowhere', () => {
  it('accepts an unplaced request that fits nowhere', () => {
    const requests = [replica('r', { cpu: 8 })];
    expect(() => assertUnplacedFitNowhere(nodes, [], requests, result([], ['r']))).not.toThrow();
  });

  it('catches an unplaced request that fits', () => {
    const requests = [replica('r', { gpu: 1, gpuMemory: '10Gi', gpuModel: 'a100', nodeSelector: { zone: 'eu' } })];
    expect(() => assertUnplacedFitNowhere(nodes, [], requests, result([], ['r']))).toThrow(/r is unplaced but fits on a/);
  });

  it('takes the plan itself into account', () => {
    const requests = [replica('r1', { cpu: 3 }), replica('r2', { cpu: 3 })];
    const plan = result([{ replicaId: 'r1', nodeId: 'a', cpu: 3, memory: 0, gpus: [], group: 'g' }], ['r2']);
    expect(() => assertUnplacedFitNowhere(nodes, [], requests, plan)).not.toThrow();
  });
});

describe('assertHonoursRequests', () => {
  it('catches a wrong GPU claim and an unanswered request', () => {
    const requests = [replica('r1', { gpu: 1, gpuMemory: '10Gi' }), replica('r2')];
    const plan = result([{ replicaId: 'r1', nodeId: 'a', cpu: 1, memory: 0, gpus: [{ index: 0, memory: 5 * GiB }], group: 'g' }]);
    expect(() => assertHonoursRequests(nodes, requests, plan)).toThrow(/r2 answered 0 times/);
    expect(() => assertHonoursRequests(nodes, requests, plan)).toThrow(/r1 claims 5368709120 bytes on GPU 0, expected 10737418240/);
  });
});

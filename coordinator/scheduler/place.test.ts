import { describe, expect, it } from 'vitest';
import { isGridlineError } from '../../common/errors.js';
import {
  assertHonoursAffinity,
  assertHonoursRequests,
  assertNoOvercommit,
  assertUnplacedFitNowhere,
  cluster,
  replica,
} from './in-memory-cluster.js';
import { place } from './place.js';
import type { NodeView, Placement, PlacementResult, ReplicaRequest } from './types.js';

const GiB = 2 ** 30;

/** place() plus every harness invariant, so each test also checks the plan is sound. */
function plan(nodes: readonly NodeView[], requests: readonly ReplicaRequest[], existing: readonly Placement[] = []): PlacementResult {
  const result = place(nodes, existing, requests);
  assertNoOvercommit(nodes, existing, result);
  assertHonoursRequests(nodes, requests, result);
  assertHonoursAffinity(existing, requests, result);
  assertUnplacedFitNowhere(nodes, existing, requests, result);
  return result;
}

function nodeOf(result: PlacementResult, replicaId: string): string | undefined {
  return result.placements.find((p) => p.replicaId === replicaId)?.nodeId;
}

function placementOf(result: PlacementResult, replicaId: string): Placement {
  const placement = result.placements.find((p) => p.replicaId === replicaId);
  if (placement === undefined) throw new Error(`${replicaId} was not placed: ${JSON.stringify(result.unplaced)}`);
  return placement;
}

function unplacedIds(result: PlacementResult): string[] {
  return result.unplaced.map((u) => u.replicaId);
}

describe('place: filters', () => {
  it('places only where cpu fits', () => {
    const nodes = cluster().node('small', { cpu: 2, memory: '8Gi' }).node('big', { cpu: 8, memory: '8Gi' }).build();
    const result = plan(nodes, [replica('r', { cpu: 4 })]);
    expect(nodeOf(result, 'r')).toBe('big');
  });

  it('places only where memory fits', () => {
    const nodes = cluster().node('a', { cpu: 8, memory: '2Gi' }).node('b', { cpu: 2, memory: '16Gi' }).build();
    const result = plan(nodes, [replica('r', { cpu: 1, memory: '4Gi' })]);
    expect(nodeOf(result, 'r')).toBe('b');
  });

  it('requires every nodeSelector label to match', () => {
    const nodes = cluster()
      .node('a', { cpu: 8, memory: '8Gi', labels: { zone: 'eu' } })
      .node('b', { cpu: 8, memory: '8Gi', labels: { zone: 'us', disk: 'ssd' } })
      .node('c', { cpu: 8, memory: '8Gi', labels: { zone: 'eu', disk: 'ssd' } })
      .build();
    const result = plan(nodes, [
      replica('eu-ssd', { nodeSelector: { zone: 'eu', disk: 'ssd' } }),
      replica('us', { group: 'other', nodeSelector: { zone: 'us' } }),
      replica('mars', { group: 'third', nodeSelector: { zone: 'mars' } }),
    ]);
    expect(nodeOf(result, 'eu-ssd')).toBe('c');
    expect(nodeOf(result, 'us')).toBe('b');
    expect(unplacedIds(result)).toEqual(['mars']);
  });

  it('does not treat inherited properties as labels', () => {
    const nodes = cluster().node('a', { cpu: 8, memory: '8Gi' }).build();
    const result = plan(nodes, [replica('r', { nodeSelector: { constructor: 'x' } })]);
    expect(unplacedIds(result)).toEqual(['r']);
  });

  it('uses only ready nodes', () => {
    const nodes = cluster()
      .node('draining', { cpu: 64, memory: '64Gi', state: 'draining' })
      .node('lost', { cpu: 64, memory: '64Gi', state: 'lost' })
      .node('gone', { cpu: 64, memory: '64Gi', state: 'disconnected' })
      .node('ready', { cpu: 2, memory: '2Gi' })
      .build();
    const result = plan(nodes, [replica('r1', { cpu: 1 }), replica('r2', { cpu: 1, group: 'h' }), replica('r3', { cpu: 1, group: 'i' })]);
    expect(result.placements.map((p) => p.nodeId)).toEqual(['ready', 'ready']);
    expect(unplacedIds(result)).toEqual(['r3']);
  });

  it('subtracts existing placements and earlier placements of the same call', () => {
    const nodes = cluster().node('a', { cpu: 4, memory: '8Gi' }).build();
    const existing: Placement[] = [{ replicaId: 'old', nodeId: 'a', cpu: 2, memory: 4 * GiB, gpus: [] }];
    const result = plan(nodes, [replica('r1', { cpu: 1, memory: '2Gi' }), replica('r2', { cpu: 1, memory: '2Gi' }), replica('r3', { cpu: 1 })], existing);
    expect(result.placements.map((p) => p.replicaId)).toEqual(['r1', 'r2']);
    expect(unplacedIds(result)).toEqual(['r3']);
  });

  it('counts cpu in millicores, so fractions add up exactly', () => {
    const nodes = cluster().node('a', { cpu: 0.3, memory: '1Gi' }).build();
    const result = plan(nodes, [replica('r1', { cpu: 0.1 }), replica('r2', { cpu: 0.1 }), replica('r3', { cpu: 0.1 })]);
    expect(result.placements).toHaveLength(3);
  });

  it('needs the GPU count on one node', () => {
    const nodes = cluster()
      .node('one', { cpu: 8, memory: '8Gi', gpus: ['A100-80GB'] })
      .node('two', { cpu: 8, memory: '8Gi', gpus: ['T4-16GB', 'T4-16GB'] })
      .build();
    const result = plan(nodes, [replica('r', { gpu: 2, gpuMemory: '8Gi' })]);
    const placement = placementOf(result, 'r');
    expect(placement.nodeId).toBe('two');
    expect(placement.gpus).toEqual([
      { index: 0, memory: 8 * GiB },
      { index: 1, memory: 8 * GiB },
    ]);
  });
});

describe('place: GPUs', () => {
  it('shares one GPU by memory and never exceeds it', () => {
    const nodes = cluster().node('a', { cpu: 16, memory: '64Gi', gpus: [{ model: 'A100', memory: '40Gi' }] }).build();
    const small = [1, 2, 3].map((i) => replica(`small-${i}`, { group: `g${i}`, gpu: 1, gpuMemory: '10Gi' }));
    const result = plan(nodes, small);
    expect(result.placements.map((p) => p.gpus)).toEqual([
      [{ index: 0, memory: 10 * GiB }],
      [{ index: 0, memory: 10 * GiB }],
      [{ index: 0, memory: 10 * GiB }],
    ]);

    const next = plan(nodes, [replica('big', { gpu: 1, gpuMemory: '20Gi' })], result.placements);
    expect(unplacedIds(next)).toEqual(['big']);
    expect(next.unplaced[0]?.summary).toBe('gpu: needs 1 GPU with 20 GiB free, a GPU 0 has 10 GiB free');
  });

  it('gives whole GPUs to one replica only', () => {
    const nodes = cluster().node('a', { cpu: 16, memory: '64Gi', gpus: ['A10-24GB', 'A10-24GB'] }).build();
    const result = plan(nodes, [
      replica('w1', { group: 'w', gpu: 1 }),
      replica('w2', { group: 'w', gpu: 1 }),
      replica('w3', { group: 'w', gpu: 1 }),
      replica('shared', { group: 's', gpu: 1, gpuMemory: '1Gi' }),
    ]);
    expect(placementOf(result, 'w1').gpus).toEqual([{ index: 0, memory: 24 * GiB }]);
    expect(placementOf(result, 'w2').gpus).toEqual([{ index: 1, memory: 24 * GiB }]);
    expect(unplacedIds(result).sort()).toEqual(['shared', 'w3']);
  });

  it('does not give a whole GPU that a shared replica already uses', () => {
    const nodes = cluster().node('a', { cpu: 16, memory: '64Gi', gpus: ['A10-24GB'] }).build();
    const existing: Placement[] = [{ replicaId: 'old', nodeId: 'a', cpu: 1, memory: 0, gpus: [{ index: 0, memory: GiB }] }];
    const result = plan(nodes, [replica('whole', { gpu: 1 })], existing);
    expect(unplacedIds(result)).toEqual(['whole']);
    expect(result.unplaced[0]?.summary).toBe('gpu: needs 1 entirely free GPU, a has 0 entirely free GPUs');
  });

  it('matches gpuModel as a case-insensitive substring', () => {
    const nodes = cluster()
      .node('t4', { cpu: 8, memory: '8Gi', gpus: [{ model: 'Tesla T4', memory: '16Gi' }] })
      .node('a100', { cpu: 8, memory: '8Gi', gpus: [{ model: 'NVIDIA A100-SXM4-80GB', memory: '80Gi' }] })
      .build();
    const result = plan(nodes, [
      replica('any', { group: 'x', gpu: 1, gpuMemory: '1Gi' }),
      replica('a100', { group: 'y', gpu: 1, gpuMemory: '1Gi', gpuModel: 'a100' }),
      replica('h100', { group: 'z', gpu: 1, gpuMemory: '1Gi', gpuModel: 'H100' }),
    ]);
    expect(nodeOf(result, 'a100')).toBe('a100');
    expect(nodeOf(result, 'any')).toBe('t4');
    expect(unplacedIds(result)).toEqual(['h100']);
    expect(result.unplaced[0]?.summary).toBe('gpu: needs 1 GPU matching "H100" with 1 GiB free, a100 has no GPU matching "H100", t4 has no GPU matching "H100"');
  });

  it('falls back to CPU for a preferred GPU request when no GPU fits', () => {
    const nodes = cluster().node('laptop', { cpu: 4, memory: '8Gi' }).build();
    const result = plan(nodes, [replica('r', { gpu: 1, gpuMemory: '4Gi', gpuPolicy: 'preferred' })]);
    expect(placementOf(result, 'r')).toEqual({ replicaId: 'r', nodeId: 'laptop', cpu: 1, memory: 0, gpus: [], group: 'g' });
  });

  it('uses the GPU for a preferred request when one fits', () => {
    const nodes = cluster().node('cpu', { cpu: 4, memory: '8Gi' }).node('gpu', { cpu: 4, memory: '8Gi', gpus: ['T4-16GB'] }).build();
    const result = plan(nodes, [replica('r', { gpu: 1, gpuMemory: '4Gi', gpuPolicy: 'preferred' })]);
    expect(placementOf(result, 'r')).toMatchObject({ nodeId: 'gpu', gpus: [{ index: 0, memory: 4 * GiB }] });
  });

  it('leaves a required GPU request unplaced on CPU-only nodes', () => {
    const nodes = cluster().node('cpu', { cpu: 4, memory: '8Gi' }).build();
    const result = plan(nodes, [replica('r', { gpu: 1, gpuMemory: '4Gi' })]);
    expect(unplacedIds(result)).toEqual(['r']);
  });
});

describe('place: scoring', () => {
  it('spreads the replicas of one group across nodes', () => {
    const nodes = cluster().nodes('n', 3, { cpu: 8, memory: '8Gi' }).build();
    const result = plan(nodes, [replica('r0'), replica('r1'), replica('r2')]);
    expect(new Set(result.placements.map((p) => p.nodeId)).size).toBe(3);
  });

  it('spreads evenly when a group has more replicas than nodes', () => {
    const nodes = cluster().nodes('n', 3, { cpu: 8, memory: '8Gi' }).build();
    const result = plan(
      nodes,
      Array.from({ length: 6 }, (_, i) => replica(`r${i}`)),
    );
    const perNode = new Map<string, number>();
    for (const p of result.placements) perNode.set(p.nodeId, (perNode.get(p.nodeId) ?? 0) + 1);
    expect([...perNode.values()]).toEqual([2, 2, 2]);
  });

  it('spreads a big group evenly over many nodes, with existing replicas counted', () => {
    const nodes = cluster().nodes('n', 150, { cpu: 8, memory: '8Gi' }).build();
    const existing: Placement[] = Array.from({ length: 100 }, (_, i) => ({
      replicaId: `old-${i}`,
      nodeId: `n-${i}`,
      cpu: 0,
      memory: 0,
      gpus: [],
      group: 'g',
    }));
    const result = plan(
      nodes,
      Array.from({ length: 350 }, (_, i) => replica(`r${i}`, { cpu: 0 })),
      existing,
    );
    const perNode = new Map<string, number>();
    for (const p of [...existing, ...result.placements]) perNode.set(p.nodeId, (perNode.get(p.nodeId) ?? 0) + 1);
    expect(new Set(perNode.values())).toEqual(new Set([3]));
  });

  it('spreads away from nodes where existing placements run the group', () => {
    const nodes = cluster().nodes('n', 2, { cpu: 8, memory: '8Gi' }).build();
    const existing: Placement[] = [{ replicaId: 'old', nodeId: 'n-0', cpu: 0, memory: 0, gpus: [], group: 'g' }];
    expect(nodeOf(plan(nodes, [replica('new')], existing), 'new')).toBe('n-1');
    // Another group sees two equal nodes and takes the lower id.
    expect(nodeOf(plan(nodes, [replica('other', { group: 'h' })], existing), 'other')).toBe('n-0');
  });

  it('spreads a group even when that costs GPU packing', () => {
    const nodes = cluster().nodes('n', 2, { cpu: 8, memory: '8Gi', gpus: ['A100-40GB'] }).build();
    const result = plan(nodes, [replica('a', { gpu: 1, gpuMemory: '10Gi' }), replica('b', { gpu: 1, gpuMemory: '10Gi' })]);
    expect(new Set(result.placements.map((p) => p.nodeId)).size).toBe(2);
  });

  it('bin-packs GPU memory: the smallest GPU that fits', () => {
    const nodes = cluster()
      .node('h100', { cpu: 32, memory: '64Gi', gpus: ['H100-80GB'] })
      .node('a10', { cpu: 32, memory: '64Gi', gpus: ['A10-24GB'] })
      .node('t4', { cpu: 32, memory: '64Gi', gpus: ['T4-16GB'] })
      .build();
    const result = plan(nodes, [replica('r', { gpu: 1, gpuMemory: '20Gi' })]);
    expect(nodeOf(result, 'r')).toBe('a10');
  });

  it('bin-packs GPU memory: a partly used GPU before a free one', () => {
    const nodes = cluster().node('a', { cpu: 32, memory: '64Gi', gpus: ['A100-40GB', 'A100-40GB'] }).node('b', { cpu: 32, memory: '64Gi', gpus: ['A100-40GB'] }).build();
    const existing: Placement[] = [{ replicaId: 'old', nodeId: 'a', cpu: 1, memory: 0, gpus: [{ index: 1, memory: 25 * GiB }] }];
    const result = plan(nodes, [replica('r', { gpu: 1, gpuMemory: '10Gi' })], existing);
    expect(placementOf(result, 'r')).toMatchObject({ nodeId: 'a', gpus: [{ index: 1, memory: 10 * GiB }] });
  });

  it('gives whole-GPU requests the smallest free GPUs', () => {
    const nodes = cluster()
      .node('big', { cpu: 32, memory: '64Gi', gpus: ['A100-80GB', 'A100-80GB'] })
      .node('small', { cpu: 32, memory: '64Gi', gpus: ['A100-40GB', 'A100-80GB'] })
      .build();
    const result = plan(nodes, [replica('r', { gpu: 1 })]);
    expect(placementOf(result, 'r')).toMatchObject({ nodeId: 'small', gpus: [{ index: 0, memory: 40 * GiB }] });
  });

  it('packs onto the node with less free GPU memory when the GPU fit ties', () => {
    const nodes = cluster().node('a', { cpu: 8, memory: '8Gi', gpus: ['A10-24GB', 'A10-24GB'] }).node('b', { cpu: 8, memory: '8Gi', gpus: ['A10-24GB', 'A10-24GB'] }).build();
    const existing: Placement[] = [{ replicaId: 'old', nodeId: 'b', cpu: 0, memory: 0, gpus: [{ index: 0, memory: 24 * GiB }] }];
    expect(nodeOf(plan(nodes, [replica('r', { gpu: 1 })], existing), 'r')).toBe('b');
  });

  it('keeps GPU nodes for GPU work: CPU replicas go to nodes without GPUs first', () => {
    const nodes = cluster().node('a-gpu', { cpu: 64, memory: '64Gi', gpus: ['T4-16GB'] }).node('b-cpu', { cpu: 4, memory: '8Gi' }).build();
    const result = plan(nodes, [replica('r1', { group: 'x' }), replica('r2', { group: 'y' }), replica('r3', { group: 'z', cpu: 3 })]);
    expect(nodeOf(result, 'r1')).toBe('b-cpu');
    expect(nodeOf(result, 'r2')).toBe('b-cpu');
    expect(nodeOf(result, 'r3')).toBe('a-gpu');
  });

  it('prefers the least-loaded node, then the lowest id', () => {
    const nodes = cluster().nodes('n', 3, { cpu: 4, memory: '8Gi' }).build();
    const existing: Placement[] = [
      { replicaId: 'x', nodeId: 'n-0', cpu: 2, memory: 0, gpus: [] },
      { replicaId: 'y', nodeId: 'n-1', cpu: 1, memory: 0, gpus: [] },
      { replicaId: 'z', nodeId: 'n-2', cpu: 1, memory: 0, gpus: [] },
    ];
    expect(nodeOf(plan(nodes, [replica('r')], existing), 'r')).toBe('n-1');
  });

  it('compares load as a share of the node, not absolute cores', () => {
    const nodes = cluster().node('big', { cpu: 64, memory: '8Gi' }).node('small', { cpu: 8, memory: '8Gi' }).build();
    const existing: Placement[] = [{ replicaId: 'x', nodeId: 'big', cpu: 48, memory: 0, gpus: [] }];
    // big has 16 cores free (25 %), small 8 (100 %).
    expect(nodeOf(plan(nodes, [replica('r')], existing), 'r')).toBe('small');
  });

  it('handles GPU-heavy requests first so small ones cannot starve them', () => {
    const nodes = cluster().node('a', { cpu: 8, memory: '8Gi', gpus: ['A100-40GB'] }).build();
    const result = plan(nodes, [replica('a-small', { group: 's', gpu: 1, gpuMemory: '10Gi' }), replica('z-whole', { group: 'w', gpu: 1 })]);
    expect(nodeOf(result, 'z-whole')).toBe('a');
    expect(unplacedIds(result)).toEqual(['a-small']);
    expect(result.placements.map((p) => p.replicaId)).toEqual(['z-whole']);
  });
});

describe('place: affinity and anti-affinity', () => {
  const nodesOf = (result: PlacementResult, prefix: string): string[] =>
    result.placements.filter((p) => p.replicaId.startsWith(prefix)).map((p) => p.nodeId);

  it('affinity puts every replica on nodes running the named group, placed first even when it is lighter', () => {
    const nodes = cluster().nodes('n', 4, { cpu: 8, memory: '8Gi', gpus: ['T4-16GB'] }).build();
    const prep = [0, 1].map((i) => replica(`prep-${i}`, { group: 'run/prep' }));
    // GPU replicas are normally handled before CPU ones; affinity makes them wait for prep.
    const model = [0, 1, 2].map((i) => replica(`model-${i}`, { group: 'run/model', gpu: 1, gpuMemory: '4Gi', affinity: ['run/prep'] }));
    const result = plan(nodes, [...model, ...prep]);
    expect(unplacedIds(result)).toEqual([]);
    const prepNodes = new Set(nodesOf(result, 'prep-'));
    expect(prepNodes.size).toBe(2);
    expect(nodesOf(result, 'model-').every((node) => prepNodes.has(node))).toBe(true);
    expect(result.placements.map((p) => p.replicaId)).toEqual(['prep-0', 'prep-1', 'model-0', 'model-1', 'model-2']);
  });

  it('anti-affinity with its own group spreads one replica per node and leaves the rest unplaced, saying why', () => {
    const nodes = cluster().nodes('n', 3, { cpu: 8, memory: '8Gi' }).build();
    const requests = Array.from({ length: 5 }, (_, i) => replica(`web-${i}`, { group: 'run/web', antiAffinity: ['run/web'] }));
    const result = plan(nodes, requests);
    expect(new Set(result.placements.map((p) => p.nodeId))).toEqual(new Set(['n-0', 'n-1', 'n-2']));
    expect(unplacedIds(result)).toEqual(['web-3', 'web-4']);
    expect(result.unplaced[0]).toEqual({
      replicaId: 'web-3',
      summary: 'anti-affinity: n-0 runs a replica of web, n-1 runs a replica of web, n-2 runs a replica of web',
      reasons: ['n-0', 'n-1', 'n-2'].map((nodeId) => ({ nodeId, reason: 'anti-affinity: runs a replica of web' })),
    });
  });

  it('anti-affinity between two groups keeps them apart, or leaves the replica unplaced', () => {
    const nodes = cluster().nodes('n', 2, { cpu: 8, memory: '8Gi' }).build();
    const a = replica('a', { group: 'run/a', cpu: 0 });
    // Without the constraint b would join a on n-0: equal load, lower id.
    expect(nodeOf(plan(nodes, [a, replica('b', { group: 'run/b' })]), 'b')).toBe('n-0');
    const apart = plan(nodes, [a, replica('b', { group: 'run/b', antiAffinity: ['run/a'] })]);
    expect([nodeOf(apart, 'a'), nodeOf(apart, 'b')]).toEqual(['n-0', 'n-1']);

    const one = cluster().node('only', { cpu: 8, memory: '8Gi' }).build();
    const result = plan(one, [a, replica('b', { group: 'run/b', antiAffinity: ['run/a', 'run/c'] })]);
    expect(unplacedIds(result)).toEqual(['b']);
    expect(result.unplaced[0]?.reasons).toEqual([{ nodeId: 'only', reason: 'anti-affinity: runs a replica of a' }]);
  });

  it('counts existing placements for both', () => {
    const nodes = cluster().nodes('n', 3, { cpu: 8, memory: '8Gi' }).build();
    const existing: Placement[] = [
      { replicaId: 'old-a', nodeId: 'n-2', cpu: 1, memory: 0, gpus: [], group: 'run/a' },
      { replicaId: 'old-b', nodeId: 'n-1', cpu: 1, memory: 0, gpus: [], group: 'run/b' },
    ];
    const result = plan(
      nodes,
      [replica('near-a', { group: 'run/c', affinity: ['run/a'] }), replica('away', { group: 'run/d', antiAffinity: ['run/b', 'run/d'] }), replica('away-2', { group: 'run/d', antiAffinity: ['run/b', 'run/d'] })],
      existing,
    );
    expect(nodeOf(result, 'near-a')).toBe('n-2');
    expect(new Set([nodeOf(result, 'away'), nodeOf(result, 'away-2')])).toEqual(new Set(['n-0', 'n-2']));
  });

  it('names the missing affinity per node, beside what is short where the group runs', () => {
    const nodes = cluster().nodes('n', 3, { cpu: 2, memory: '8Gi' }).build();
    const existing: Placement[] = [{ replicaId: 'old', nodeId: 'n-1', cpu: 2, memory: 0, gpus: [], group: 'run/prep' }];
    const result = plan(nodes, [replica('m', { group: 'run/model', affinity: ['run/prep', 'run/tok'] })], existing);
    expect(result.unplaced[0]).toEqual({
      replicaId: 'm',
      summary: 'affinity: n-1 has no replica of tok, n-0 has no replica of prep, tok, n-2 has no replica of prep, tok',
      reasons: [
        { nodeId: 'n-0', reason: 'affinity: no replica of prep here; affinity: no replica of tok here' },
        { nodeId: 'n-1', reason: 'affinity: no replica of tok here' },
        { nodeId: 'n-2', reason: 'affinity: no replica of prep here; affinity: no replica of tok here' },
      ],
    });

    const full = plan(nodes, [replica('m', { group: 'run/model', affinity: ['run/prep'] })], existing);
    expect(full.unplaced[0]?.summary).toBe('cpu: needs 1 core, n-1 has 0 free; affinity: n-0 has no replica of prep, n-2 has no replica of prep');
  });

  it('gives the same plan whatever the order of the groups named', () => {
    const nodes = cluster().nodes('n', 4, { cpu: 8, memory: '8Gi' }).build();
    const base = [replica('a', { group: 'run/a' }), replica('b', { group: 'run/b' })];
    const first = plan(nodes, [...base, replica('c', { group: 'run/c', antiAffinity: ['run/a', 'run/b'] })]);
    const second = plan(nodes, [...base, replica('c', { group: 'run/c', antiAffinity: ['run/b', 'run/a', 'run/b'] })]);
    expect(second).toEqual(first);
  });
});

describe('place: unplaced summaries', () => {
  it('says there are no ready nodes', () => {
    expect(place([], [], [replica('r')]).unplaced).toEqual([{ replicaId: 'r', summary: 'no ready nodes', reasons: [] }]);
    const nodes = cluster().node('b', { cpu: 8, memory: '8Gi', state: 'lost' }).node('a', { cpu: 8, memory: '8Gi', state: 'draining' }).build();
    expect(place(nodes, [], [replica('r')]).unplaced).toEqual([
      {
        replicaId: 'r',
        summary: 'no ready nodes: a is draining, b is lost',
        reasons: [
          { nodeId: 'a', reason: 'node is draining' },
          { nodeId: 'b', reason: 'node is lost' },
        ],
      },
    ]);
  });

  it('names the short resource and the nodes, closest first', () => {
    const nodes = cluster()
      .node('node-a', { cpu: 1, memory: '8Gi' })
      .node('node-b', { cpu: 2, memory: '8Gi' })
      .node('node-c', { cpu: 8, memory: '8Gi', state: 'draining' })
      .build();
    const result = plan(nodes, [replica('r', { cpu: 4 })]);
    expect(result.unplaced).toEqual([
      {
        replicaId: 'r',
        summary: 'cpu: needs 4 cores, node-b has 2 free, node-a has 1 free; not ready: node-c is draining',
        reasons: [
          { nodeId: 'node-a', reason: 'cpu: needs 4 cores, 1 free' },
          { nodeId: 'node-b', reason: 'cpu: needs 4 cores, 2 free' },
          { nodeId: 'node-c', reason: 'node is draining' },
        ],
      },
    ]);
  });

  it('explains GPU shortages per node', () => {
    const nodes = cluster()
      .node('node-a', { cpu: 8, memory: '8Gi' })
      .node('node-b', { cpu: 8, memory: '8Gi', gpus: ['A10-24GB'] })
      .node('node-c', { cpu: 8, memory: '8Gi', gpus: ['A10-24GB', 'A10-24GB'] })
      .build();
    const existing: Placement[] = [
      { replicaId: 'x', nodeId: 'node-b', cpu: 0, memory: 0, gpus: [{ index: 0, memory: 16 * GiB }] },
      { replicaId: 'y', nodeId: 'node-c', cpu: 0, memory: 0, gpus: [{ index: 0, memory: 20 * GiB }] },
      { replicaId: 'z', nodeId: 'node-c', cpu: 0, memory: 0, gpus: [{ index: 1, memory: 12 * GiB }] },
    ];
    const result = plan(nodes, [replica('r', { gpu: 1, gpuMemory: '16Gi' })], existing);
    expect(result.unplaced[0]?.summary).toBe(
      'gpu: needs 1 GPU with 16 GiB free, node-c has at most 12 GiB free on a GPU, node-b GPU 0 has 8 GiB free, node-a has 0 GPUs',
    );
    expect(result.unplaced[0]?.reasons).toEqual([
      { nodeId: 'node-a', reason: 'gpu: needs 1 GPU with 16 GiB free, node has 0 GPUs' },
      { nodeId: 'node-b', reason: 'gpu: needs 1 GPU with 16 GiB free, GPU 0 has 8 GiB free' },
      { nodeId: 'node-c', reason: 'gpu: needs 1 GPU with 16 GiB free, GPU 0 has 4 GiB free, GPU 1 has 12 GiB free' },
    ]);
  });

  it('explains whole-GPU shortages', () => {
    const nodes = cluster().node('a', { cpu: 8, memory: '8Gi', gpus: ['A10-24GB', 'A10-24GB'] }).node('b', { cpu: 8, memory: '8Gi', gpus: ['T4-16GB'] }).build();
    const existing: Placement[] = [{ replicaId: 'x', nodeId: 'a', cpu: 0, memory: 0, gpus: [{ index: 1, memory: GiB }] }];
    const result = plan(nodes, [replica('r', { gpu: 2 })], existing);
    expect(result.unplaced[0]).toEqual({
      replicaId: 'r',
      summary: 'gpu: needs 2 entirely free GPUs, a has 1 entirely free GPU, b has 1 entirely free GPU',
      reasons: [
        { nodeId: 'a', reason: 'gpu: needs 2 entirely free GPUs, 1 of 2 GPUs entirely free (GPU 1 is in use)' },
        { nodeId: 'b', reason: 'gpu: needs 2 entirely free GPUs, 1 of 1 GPU entirely free' },
      ],
    });
  });

  it('lists every short resource of a node, and labels on their own', () => {
    const nodes = cluster()
      .node('a', { cpu: 1, memory: '1Gi', labels: { zone: 'eu' } })
      .node('b', { cpu: 8, memory: '8Gi', labels: { zone: 'us' } })
      .node('c', { cpu: 8, memory: '8Gi' })
      .build();
    const result = plan(nodes, [replica('r', { cpu: 2, memory: '2Gi', nodeSelector: { zone: 'eu' } })]);
    expect(result.unplaced[0]).toEqual({
      replicaId: 'r',
      summary: 'cpu: needs 2 cores, a has 1 free; memory: needs 2 GiB, a has 1 GiB free; labels: needs zone=eu, b has zone=us, c lacks zone',
      reasons: [
        { nodeId: 'a', reason: 'cpu: needs 2 cores, 1 free; memory: needs 2 GiB, 1 GiB free' },
        { nodeId: 'b', reason: 'labels: needs zone=eu, node has zone=us' },
        { nodeId: 'c', reason: 'labels: needs zone=eu, node has no zone label' },
      ],
    });
  });

  it('names a few nodes and counts the rest', () => {
    const nodes = cluster().nodes('n', 10, { cpu: 1, memory: '1Gi' }).build();
    const result = plan(nodes, [replica('r', { cpu: 2 })]);
    expect(result.unplaced[0]?.summary).toBe('cpu: needs 2 cores, n-0 has 1 free, n-1 has 1 free, n-2 has 1 free, and 7 more');
    expect(result.unplaced[0]?.reasons).toHaveLength(10);
  });

  it('explains against what the plan leaves, once per request shape', () => {
    const nodes = cluster().node('a', { cpu: 2, memory: '8Gi' }).build();
    const requests = ['r1', 'r2', 'r3', 'r4'].map((id) => replica(id));
    const result = plan(nodes, requests);
    expect(unplacedIds(result)).toEqual(['r3', 'r4']);
    expect(result.unplaced.map((u) => u.summary)).toEqual(['cpu: needs 1 core, a has 0 free', 'cpu: needs 1 core, a has 0 free']);
  });

  it('explains a preferred request by CPU and memory only', () => {
    const nodes = cluster().node('a', { cpu: 1, memory: '8Gi' }).build();
    const result = plan(nodes, [replica('r', { cpu: 2, gpu: 1, gpuMemory: '1Gi', gpuPolicy: 'preferred' })]);
    expect(result.unplaced[0]?.summary).toBe('cpu: needs 2 cores, a has 1 free');
  });
});

describe('place: determinism and input checks', () => {
  it('gives the same plan whatever the input order', () => {
    const nodes = cluster()
      .nodes('cpu', 4, { cpu: 8, memory: '16Gi' })
      .nodes('gpu', 3, { cpu: 16, memory: '64Gi', gpus: ['A10-24GB', 'A100-40GB'] })
      .build();
    const requests = [
      ...Array.from({ length: 6 }, (_, i) => replica(`cpu-${i}`, { group: 'c', cpu: 2, memory: '2Gi' })),
      ...Array.from({ length: 4 }, (_, i) => replica(`gpu-${i}`, { group: 'm', gpu: 1, gpuMemory: '10Gi' })),
      replica('whole', { group: 'w', gpu: 1, gpuModel: 'a100' }),
    ];
    const first = plan(nodes, requests);
    const second = plan([...nodes].reverse(), [...requests].reverse());
    expect(second).toEqual(first);
    expect(place(nodes, [], requests)).toEqual(first);
  });

  it('rejects duplicate node ids and replica ids', () => {
    const nodes = cluster().node('a', { cpu: 1, memory: 0 }).node('a', { cpu: 1, memory: 0 }).build();
    const thrown = (run: () => unknown): unknown => {
      try {
        run();
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const duplicateNode = thrown(() => place(nodes, [], []));
    expect(isGridlineError(duplicateNode) && duplicateNode.code).toBe('INVALID_ARGUMENT');
    const duplicateReplica = thrown(() => place([], [], [replica('r'), replica('r')]));
    expect(isGridlineError(duplicateReplica) && duplicateReplica.code).toBe('INVALID_ARGUMENT');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertHonoursAffinity,
  assertHonoursRequests,
  assertNoOvercommit,
  assertUnplacedFitNowhere,
} from './in-memory-cluster.js';
import { place } from './place.js';
import type { NodeView, Placement, PlacementResult, ReplicaRequest } from './types.js';

const GiB = 2 ** 30;
const GROUPS = ['run-1/a', 'run-1/b', 'run-2/a', 'run-2/b'] as const;

const gpuArb = fc.record({
  model: fc.constantFrom('Tesla T4', 'NVIDIA A10', 'A100-SXM4-40GB', 'A100-SXM4-80GB'),
  memory: fc.constantFrom(8, 16, 24, 40, 80).map((gib) => gib * GiB),
});

const nodeArb = fc.record({
  state: fc.constantFrom('ready', 'ready', 'ready', 'ready', 'ready', 'draining', 'lost', 'disconnected'),
  cpu: fc.constantFrom(0, 0.5, 1, 2, 4, 8),
  memory: fc.integer({ min: 0, max: 16 }).map((gib) => gib * GiB),
  gpus: fc.array(gpuArb, { maxLength: 4 }),
  zone: fc.constantFrom(null, 'a', 'b'),
});

const requestArb = fc.record({
  cpu: fc.constantFrom(0, 0.25, 0.5, 1, 2, 3),
  memory: fc.integer({ min: 0, max: 6 }).map((gib) => gib * GiB),
  gpu: fc.constantFrom(0, 0, 0, 1, 1, 2, 3),
  gpuMemory: fc.constantFrom(0, 2, 4, 8, 10, 16, 20, 40).map((gib) => gib * GiB),
  gpuModel: fc.constantFrom(null, '', 'a100', 'T4', '80GB'),
  gpuPolicy: fc.constantFrom('required' as const, 'preferred' as const),
  group: fc.constantFrom(...GROUPS),
  zone: fc.constantFrom(null, null, 'a', 'b'),
});

/**
 * Affinity and anti-affinity between groups, as planRun gives them: per group (so a group's
 * replicas share them), affinity without cycles (only to a group listed earlier; a cycle cannot
 * be satisfied and the pipeline check rejects it) and anti-affinity on both sides, a group with
 * itself included.
 */
const constraintArb = fc.array(fc.record({ from: fc.nat(GROUPS.length - 1), to: fc.nat(GROUPS.length - 1), anti: fc.boolean() }), {
  maxLength: 3,
});

type NodeSpec = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type RequestSpec = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;
type ConstraintSpec = typeof constraintArb extends fc.Arbitrary<infer T> ? T : never;

interface GroupConstraints {
  affinity: string[];
  antiAffinity: string[];
}

function toConstraints(edges: ConstraintSpec): Map<string, GroupConstraints> {
  const byGroup = new Map<string, GroupConstraints>(GROUPS.map((group) => [group, { affinity: [], antiAffinity: [] }]));
  for (const { from, to, anti } of edges) {
    const [a, b] = [GROUPS[from]!, GROUPS[to]!];
    if (anti) {
      byGroup.get(a)!.antiAffinity.push(b);
      byGroup.get(b)!.antiAffinity.push(a);
    } else if (to < from) {
      byGroup.get(a)!.affinity.push(b);
    }
  }
  return byGroup;
}

const NO_LABELS: Readonly<Record<string, string>> = {};

function toNodes(specs: readonly NodeSpec[]): NodeView[] {
  return specs.map((spec, i) => ({
    // Ids whose sort order differs from the generation order.
    id: `node-${(i * 7) % 31}-${i}`,
    state: spec.state,
    cpu: spec.cpu,
    memory: spec.memory,
    gpus: spec.gpus.map((gpu, index) => ({ index, ...gpu })),
    labels: spec.zone === null ? NO_LABELS : { zone: spec.zone },
  }));
}

function toRequests(prefix: string, specs: readonly RequestSpec[], constraints: ReadonlyMap<string, GroupConstraints>): ReplicaRequest[] {
  return specs.map((spec, i) => ({
    replicaId: `${prefix}-${i}`,
    group: spec.group,
    affinity: constraints.get(spec.group)!.affinity,
    antiAffinity: constraints.get(spec.group)!.antiAffinity,
    resources: {
      cpu: spec.cpu,
      memory: spec.memory,
      gpu: spec.gpu,
      gpuMemory: spec.gpuMemory,
      gpuModel: spec.gpuModel,
      gpuPolicy: spec.gpuPolicy,
    },
    nodeSelector: spec.zone === null ? NO_LABELS : { zone: spec.zone },
  }));
}

/** A deterministic shuffle driven by fast-check's seed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i -= 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const scenarioArb = fc.record({
  nodes: fc.array(nodeArb, { maxLength: 30 }),
  first: fc.array(requestArb, { maxLength: 40 }),
  second: fc.array(requestArb, { maxLength: 40 }),
  constraints: constraintArb,
  seed: fc.integer(),
});

function checkPlan(nodes: readonly NodeView[], existing: readonly Placement[], requests: readonly ReplicaRequest[], result: PlacementResult): void {
  assertNoOvercommit(nodes, existing, result);
  assertHonoursRequests(nodes, requests, result);
  assertHonoursAffinity(existing, requests, result);
  assertUnplacedFitNowhere(nodes, existing, requests, result);
}

describe('place: properties', () => {
  it('never overcommits, honours every request, and leaves unplaced only what fits nowhere', () => {
    fc.assert(
      fc.property(scenarioArb, ({ nodes: nodeSpecs, first, second, constraints }) => {
        const nodes = toNodes(nodeSpecs);
        const byGroup = toConstraints(constraints);
        const firstRequests = toRequests('a', first, byGroup);
        const firstResult = place(nodes, [], firstRequests);
        checkPlan(nodes, [], firstRequests, firstResult);

        // A second call on top of the first plan, as the coordinator makes when it scales up.
        const existing = firstResult.placements;
        const secondRequests = toRequests('b', second, byGroup);
        const secondResult = place(nodes, existing, secondRequests);
        checkPlan(nodes, existing, secondRequests, secondResult);
        for (const unplaced of [...firstResult.unplaced, ...secondResult.unplaced]) {
          expect(unplaced.summary).not.toBe('');
          expect(unplaced.reasons.map((r) => r.nodeId)).toEqual(nodes.map((n) => n.id).sort());
          expect(unplaced.reasons.every((r) => r.reason !== 'fits now')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same plan for the same input, in any order', () => {
    fc.assert(
      fc.property(scenarioArb, ({ nodes: nodeSpecs, first, second, constraints, seed }) => {
        const nodes = toNodes(nodeSpecs);
        const byGroup = toConstraints(constraints);
        const existing = place(nodes, [], toRequests('a', first, byGroup)).placements;
        const requests = toRequests('b', second, byGroup);
        const plan = place(nodes, existing, requests);
        expect(place(nodes, existing, requests)).toEqual(plan);
        expect(place(shuffled(nodes, seed), shuffled(existing, seed + 1), shuffled(requests, seed + 2))).toEqual(plan);
      }),
      { numRuns: 200 },
    );
  });
});

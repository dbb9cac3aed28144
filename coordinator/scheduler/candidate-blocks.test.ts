import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { place, placeByFullScan } from './place.js';
import type { NodeView, Placement, ReplicaRequest } from './types.js';

const GiB = 2 ** 30;

// The block search must pick exactly the node a scan of every candidate picks: the summaries may
// only skip blocks that cannot hold a better node. Clusters of up to 120 nodes give blocks of up
// to 11 nodes, so searches cross many blocks; long runs of one group fill whole blocks (the
// group summaries) and pass 64 nodes (dense group counts). Affinity and anti-affinity between the
// groups come in any combination, cycles and a group naming itself included: with affinity,
// place() scans only the nodes running an affinity group, and must still agree.

const nodeArb = fc.record({
  state: fc.constantFrom('ready', 'ready', 'ready', 'ready', 'lost'),
  cpu: fc.constantFrom(1, 2, 4, 8, 16),
  memory: fc.integer({ min: 1, max: 8 }).map((gib) => gib * GiB),
  gpus: fc.array(
    fc.record({ model: fc.constantFrom('T4', 'A10', 'A100'), memory: fc.constantFrom(16, 24, 40, 80).map((gib) => gib * GiB) }),
    { maxLength: 4 },
  ),
  zone: fc.constantFrom('a', 'b'),
});

const requestArb = fc.record({
  cpu: fc.constantFrom(0, 0.25, 0.5, 1, 2),
  memory: fc.integer({ min: 0, max: 2 }).map((gib) => gib * GiB),
  gpu: fc.constantFrom(0, 0, 1, 1, 2),
  gpuMemory: fc.constantFrom(0, 4, 8, 12, 20).map((gib) => gib * GiB),
  gpuModel: fc.constantFrom(null, 'a100', 'T4'),
  gpuPolicy: fc.constantFrom('required' as const, 'preferred' as const),
  zone: fc.constantFrom(null, null, 'a'),
  group: fc.constantFrom('big', 'big', 'big', 'other', 'third'),
  /** Copies of this request, as a stage's replicas come. */
  copies: fc.integer({ min: 1, max: 12 }),
});

const GROUPS = ['big', 'other', 'third'] as const;
const constraintArb = fc.array(
  fc.record({ from: fc.constantFrom(...GROUPS), to: fc.constantFrom(...GROUPS), anti: fc.boolean() }),
  { maxLength: 3 },
);

type RequestSpec = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;
type ConstraintSpec = typeof constraintArb extends fc.Arbitrary<infer T> ? T : never;
const NO_SELECTOR: Readonly<Record<string, string>> = {};

function toRequests(prefix: string, specs: readonly RequestSpec[], edges: ConstraintSpec): ReplicaRequest[] {
  const constraintsOf = (group: string) => ({
    affinity: edges.filter((e) => !e.anti && e.from === group).map((e) => e.to),
    antiAffinity: edges.filter((e) => e.anti && e.from === group).map((e) => e.to),
  });
  return specs.flatMap((spec, i) =>
    Array.from({ length: spec.copies }, (_, copy) => ({
      replicaId: `${prefix}-${String(i).padStart(3, '0')}-${copy}`,
      group: spec.group,
      ...constraintsOf(spec.group),
      resources: {
        cpu: spec.cpu,
        memory: spec.memory,
        gpu: spec.gpu,
        gpuMemory: spec.gpuMemory,
        gpuModel: spec.gpuModel,
        gpuPolicy: spec.gpuPolicy,
      },
      nodeSelector: spec.zone === null ? NO_SELECTOR : { zone: spec.zone },
    })),
  );
}

describe('CandidateBlocks', () => {
  it('makes place() choose exactly what a full scan chooses', () => {
    fc.assert(
      fc.property(
        fc.array(nodeArb, { minLength: 1, maxLength: 120 }),
        fc.array(requestArb, { maxLength: 12 }),
        fc.array(requestArb, { maxLength: 25 }),
        constraintArb,
        (specs, first, second, edges) => {
          const nodes: NodeView[] = specs.map((spec, i) => ({
            id: `n${String(i).padStart(3, '0')}`,
            state: spec.state,
            cpu: spec.cpu,
            memory: spec.memory,
            gpus: spec.gpus.map((gpu, index) => ({ index, ...gpu })),
            labels: { zone: spec.zone },
          }));
          const firstRequests = toRequests('a', first, edges);
          const firstPlan = place(nodes, [], firstRequests);
          expect(firstPlan).toEqual(placeByFullScan(nodes, [], firstRequests));
          // On top of existing placements, whose groups the summaries must start from.
          const existing: Placement[] = firstPlan.placements;
          const secondRequests = toRequests('b', second, edges);
          expect(place(nodes, existing, secondRequests)).toEqual(placeByFullScan(nodes, existing, secondRequests));
        },
      ),
      { numRuns: 250 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertHonoursRequests, assertNoOvercommit, assertUnplacedFitNowhere } from './in-memory-cluster.js';
import { place } from './place.js';
import type { NodeView, ReplicaRequest } from './types.js';

const GiB = 2 ** 30;

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
  group: fc.constantFrom('run-1/a', 'run-1/b', 'run-2/a', 'run-2/b'),
  zone: fc.constantFrom(null, null, 'a', 'b'),
});

type NodeSpec = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type RequestSpec = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

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

function toRequests(prefix: string, specs: readonly RequestSpec[]): ReplicaRequest[] {
  return specs.map((spec, i) => ({
    replicaId: `${prefix}-${i}`,
    group: spec.group,
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
  seed: fc.integer(),
});

describe('place: properties', () => {
  it('never overcommits, honours every request, and leaves unplaced only what fits nowhere', () => {
    fc.assert(
      fc.property(scenarioArb, ({ nodes: nodeSpecs, first, second }) => {
        const nodes = toNodes(nodeSpecs);
        const firstRequests = toRequests('a', first);
        const firstResult = place(nodes, [], firstRequests);
        assertNoOvercommit(nodes, [], firstResult);
        assertHonoursRequests(nodes, firstRequests, firstResult);
        assertUnplacedFitNowhere(nodes, [], firstRequests, firstResult);

        // A second call on top of the first plan, as the coordinator makes when it scales up.
        const existing = firstResult.placements;
        const secondRequests = toRequests('b', second);
        const secondResult = place(nodes, existing, secondRequests);
        assertNoOvercommit(nodes, existing, secondResult);
        assertHonoursRequests(nodes, secondRequests, secondResult);
        assertUnplacedFitNowhere(nodes, existing, secondRequests, secondResult);
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
      fc.property(scenarioArb, ({ nodes: nodeSpecs, first, second, seed }) => {
        const nodes = toNodes(nodeSpecs);
        const existing = place(nodes, [], toRequests('a', first)).placements;
        const requests = toRequests('b', second);
        const plan = place(nodes, existing, requests);
        expect(place(nodes, existing, requests)).toEqual(plan);
        expect(place(shuffled(nodes, seed), shuffled(existing, seed + 1), shuffled(requests, seed + 2))).toEqual(plan);
      }),
      { numRuns: 200 },
    );
  });
});

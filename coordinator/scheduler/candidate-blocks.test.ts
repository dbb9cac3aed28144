import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CandidateIndex } from './candidate-index.js';
import { ClusterState, requestMillicores } from './cluster-state.js';
import { GpuFit } from './gpu-fit.js';
import { CpuChoice, GpuChoice } from './node-choice.js';
import type { NodeView } from './types.js';

const GiB = 2 ** 30;

// The block search must pick exactly the node a scan of every candidate picks: the summaries may
// only skip blocks that cannot hold a better node. Clusters of up to 80 nodes give blocks of up
// to 9, so searches cross many blocks; claims in between exercise the summary updates.

const nodeArb = fc.record({
  cpu: fc.constantFrom(1, 2, 4, 8, 16),
  memory: fc.integer({ min: 1, max: 8 }).map((gib) => gib * GiB),
  gpus: fc.array(
    fc.record({ model: fc.constantFrom('T4', 'A10', 'A100'), memory: fc.constantFrom(16, 24, 40, 80).map((gib) => gib * GiB) }),
    { maxLength: 4 },
  ),
  zone: fc.constantFrom('a', 'b'),
});

const stepArb = fc.record({
  cpu: fc.constantFrom(0, 0.5, 1, 2),
  memory: fc.integer({ min: 0, max: 2 }).map((gib) => gib * GiB),
  gpu: fc.constantFrom(0, 1, 1, 2),
  gpuMemory: fc.constantFrom(0, 4, 8, 12, 20).map((gib) => gib * GiB),
  gpuModel: fc.constantFrom(null, 'a100', 'T4'),
  zone: fc.constantFrom(null, 'a'),
  /** Nodes that already run the request's group, by candidate position. */
  spreadAt: fc.array(fc.nat(), { maxLength: 6 }),
});

describe('CandidateBlocks', () => {
  it('picks the same node as a full scan, before and after claims', () => {
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 80 }), fc.array(stepArb, { maxLength: 60 }), (specs, steps) => {
        const nodes: NodeView[] = specs.map((spec, i) => ({
          id: `n${String(i).padStart(3, '0')}`,
          state: 'ready',
          cpu: spec.cpu,
          memory: spec.memory,
          gpus: spec.gpus.map((gpu, index) => ({ index, ...gpu })),
          labels: { zone: spec.zone },
        }));
        const state = new ClusterState(nodes, []);
        const index = new CandidateIndex(state);
        const oldFree = new Float64Array(4);
        const oldClaims = new Int32Array(4);

        for (const step of steps) {
          const selector: Record<string, string> = step.zone === null ? {} : { zone: step.zone };
          const cpu = requestMillicores(step.cpu);
          const blocks = step.gpu > 0 ? index.gpuCandidates(selector, step.gpuModel) : index.cpuCandidates(selector);
          const spread = new Int32Array(state.size);
          for (const at of step.spreadAt) {
            if (blocks.candidates.length === 0) continue;
            const node = blocks.candidates[at % blocks.candidates.length]!;
            spread[node] = spread[node]! + 1;
          }

          let chosen: number;
          let fit: GpuFit | null = null;
          if (step.gpu > 0) {
            fit = new GpuFit(state, step.gpu, step.gpuMemory, index.gpuMask(step.gpuModel));
            const searched = new GpuChoice(state, cpu, step.memory, spread, fit);
            blocks.searchGpu(searched, cpu, step.memory, step.gpu, step.gpuMemory);
            const scanned = new GpuChoice(state, cpu, step.memory, spread, fit);
            scanned.scan(blocks.candidates, 0, blocks.candidates.length);
            expect(searched.node).toBe(scanned.node);
            chosen = searched.node;
          } else {
            const searched = new CpuChoice(state, cpu, step.memory, spread);
            blocks.searchCpu(searched, cpu, step.memory);
            const scanned = new CpuChoice(state, cpu, step.memory, spread);
            scanned.scan(blocks.candidates, 0, blocks.candidates.length);
            expect(searched.node).toBe(scanned.node);
            chosen = searched.node;
          }
          if (chosen < 0) continue;

          if (fit === null) {
            state.claim(chosen, cpu, step.memory, [], 0, null, 'g');
            index.claimed(chosen, [], 0, [], []);
          } else {
            fit.fit(chosen);
            for (let k = 0; k < fit.count; k += 1) {
              oldFree[k] = state.gpuFree[fit.chosen[k]!]!;
              oldClaims[k] = state.gpuClaims[fit.chosen[k]!]!;
            }
            state.claim(chosen, cpu, step.memory, fit.chosen, fit.count, fit.whole ? null : fit.memoryEach, 'g');
            index.claimed(chosen, fit.chosen, fit.count, oldFree, oldClaims);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

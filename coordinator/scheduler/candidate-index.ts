import { CandidateBlocks } from './candidate-blocks.js';
import type { ClusterState } from './cluster-state.js';

/** Whether `labels` carries every `key=value` of `selector`. */
export function matchesSelector(
  labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>,
): boolean {
  for (const key in selector) {
    if (!Object.hasOwn(selector, key)) continue;
    if (!Object.hasOwn(labels, key) || labels[key] !== selector[key]) return false;
  }
  return true;
}

/** Whether a GPU model passes a request's `gpuModel` filter (case-insensitive substring). */
export function matchesGpuModel(model: string, filter: string | null): boolean {
  return filter === null || filter === '' || model.toLowerCase().includes(filter.toLowerCase());
}

function selectorKey(selector: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(selector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Candidate classes: the ready nodes that pass a request's static filters (node selector, GPU
 * model), built once per distinct selector and model, since the replicas of one stage share
 * both; a call with 10,000 replicas evaluates labels and model names a handful of times. Each
 * class is kept as CandidateBlocks, whose summaries track free capacity as replicas are bound.
 */
export class CandidateIndex {
  private readonly idBySelectorObject = new WeakMap<object, number>();
  private readonly idBySelector = new Map<string, number>();
  private readonly nodesBySelector: Int32Array[] = [];
  private readonly masks = new Map<string, Uint8Array>();
  private readonly cpuClasses = new Map<number, CandidateBlocks>();
  private readonly gpuClasses = new Map<string, CandidateBlocks>();
  /** Per node: the classes it is a candidate of. */
  private readonly memberships: CandidateBlocks[][];

  constructor(private readonly state: ClusterState) {
    this.memberships = Array.from({ length: state.size }, () => []);
  }

  /**
   * A small number naming `selector`'s content: equal selectors get equal ids. Objects are
   * remembered, since replicas of one stage usually share one selector object.
   */
  selectorId(selector: Readonly<Record<string, string>>): number {
    const known = this.idBySelectorObject.get(selector);
    if (known !== undefined) return known;
    const key = selectorKey(selector);
    let id = this.idBySelector.get(key);
    if (id === undefined) {
      const matching: number[] = [];
      for (let i = 0; i < this.state.size; i += 1) {
        if (matchesSelector(this.state.nodes[i]!.labels, selector)) matching.push(i);
      }
      id = this.nodesBySelector.length;
      this.nodesBySelector.push(Int32Array.from(matching));
      this.idBySelector.set(key, id);
    }
    this.idBySelectorObject.set(selector, id);
    return id;
  }

  /** 1 for each GPU slot whose model passes `filter`; null when every GPU does. */
  gpuMask(filter: string | null): Uint8Array | null {
    if (filter === null || filter === '') return null;
    const key = filter.toLowerCase();
    let mask = this.masks.get(key);
    if (mask === undefined) {
      mask = new Uint8Array(this.state.gpuIndex.length);
      for (let slot = 0; slot < mask.length; slot += 1) {
        if (matchesGpuModel(this.state.gpuModel[slot]!, key)) mask[slot] = 1;
      }
      this.masks.set(key, mask);
    }
    return mask;
  }

  /**
   * Nodes matching `selector`: without GPUs first, then by CPU and memory capacity, so the nodes
   * of a block are alike and its summary is close to each of them.
   */
  cpuCandidates(selector: Readonly<Record<string, string>>): CandidateBlocks {
    const id = this.selectorId(selector);
    let blocks = this.cpuClasses.get(id);
    if (blocks === undefined) {
      const { hasGpus, cpuCapacity, nodes: views } = this.state;
      const nodes = Int32Array.from(this.nodesBySelector[id]!).sort(
        (a, b) =>
          hasGpus[a]! - hasGpus[b]! || cpuCapacity[a]! - cpuCapacity[b]! || views[a]!.memory - views[b]!.memory || a - b,
      );
      blocks = this.register(new CandidateBlocks(this.state, nodes, false, null));
      this.cpuClasses.set(id, blocks);
    }
    return blocks;
  }

  /** Nodes matching `selector` with at least one GPU passing `filter`, by GPU memory, then CPU. */
  gpuCandidates(selector: Readonly<Record<string, string>>, filter: string | null): CandidateBlocks {
    const key = `${this.selectorId(selector)}\u0000${(filter ?? '').toLowerCase()}`;
    let blocks = this.gpuClasses.get(key);
    if (blocks === undefined) {
      const { gpuStart, gpuMemory } = this.state;
      const mask = this.gpuMask(filter);
      const memory = new Map<number, number>();
      for (const node of this.nodesBySelector[this.selectorId(selector)]!) {
        let sum = 0;
        let any = false;
        for (let slot = gpuStart[node]!; slot < gpuStart[node + 1]!; slot += 1) {
          if (mask !== null && mask[slot] === 0) continue;
          any = true;
          sum += gpuMemory[slot]!;
        }
        if (any) memory.set(node, sum);
      }
      const { cpuCapacity } = this.state;
      const nodes = Int32Array.from(memory.keys()).sort(
        (a, b) => memory.get(a)! - memory.get(b)! || cpuCapacity[a]! - cpuCapacity[b]! || a - b,
      );
      blocks = this.register(new CandidateBlocks(this.state, nodes, true, mask));
      this.gpuClasses.set(key, blocks);
    }
    return blocks;
  }

  /**
   * Call after `state.claim` on `node`: `oldFree[k]` and `oldClaims[k]` are what `slots[k]` had
   * before, for the first `count` slots; `before` is what the claim returned.
   */
  claimed(
    node: number,
    slots: ArrayLike<number>,
    count: number,
    oldFree: ArrayLike<number>,
    oldClaims: ArrayLike<number>,
    group: string,
    before: number,
  ): void {
    for (const blocks of this.memberships[node]!) blocks.claimed(node, slots, count, oldFree, oldClaims, group, before);
  }

  private register(blocks: CandidateBlocks): CandidateBlocks {
    for (const node of blocks.candidates) this.memberships[node]!.push(blocks);
    return blocks;
  }
}

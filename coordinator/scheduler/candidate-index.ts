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
 * Static filters, computed once per distinct node selector and GPU model: replicas of one stage
 * share both, so a call with 10,000 replicas evaluates labels and model names a handful of
 * times instead of once per replica and node. Free capacity is not indexed: it changes with every
 * placement and is checked in the scoring loops.
 */
export class CandidateIndex {
  private readonly idBySelectorObject = new WeakMap<object, number>();
  private readonly idBySelector = new Map<string, number>();
  private readonly nodesBySelector: Int32Array[] = [];
  private readonly masks = new Map<string, Uint8Array>();
  private readonly gpuNodes = new Map<string, Int32Array>();

  constructor(private readonly state: ClusterState) {}

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

  /** Ready nodes whose labels match `selector`, by ascending index (= node id). */
  nodesMatching(selector: Readonly<Record<string, string>>): Int32Array {
    return this.nodesBySelector[this.selectorId(selector)]!;
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

  /** Nodes matching `selector` that own at least one GPU passing `filter`. */
  nodesWithGpus(selector: Readonly<Record<string, string>>, filter: string | null): Int32Array {
    const key = `${this.selectorId(selector)}\u0000${(filter ?? '').toLowerCase()}`;
    let nodes = this.gpuNodes.get(key);
    if (nodes === undefined) {
      const mask = this.gpuMask(filter);
      const matching: number[] = [];
      for (const node of this.nodesMatching(selector)) {
        const end = this.state.gpuStart[node + 1]!;
        for (let slot = this.state.gpuStart[node]!; slot < end; slot += 1) {
          if (mask === null || mask[slot] === 1) {
            matching.push(node);
            break;
          }
        }
      }
      nodes = Int32Array.from(matching);
      this.gpuNodes.set(key, nodes);
    }
    return nodes;
  }
}

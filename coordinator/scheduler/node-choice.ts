import type { ClusterState } from './cluster-state.js';
import { NO_FIT, type GpuFit } from './gpu-fit.js';
import type { GroupFilter } from './group-filter.js';

// Scoring. Each choice keeps the best node seen so far by a lexicographic key, most important
// part first, node index (= node id) last, so the plan is deterministic whatever order nodes are
// scanned in. `spread[i]` holds the replicas of the request's group already on node i; it comes
// first, so a node that runs the group is chosen only when every feasible node does.
//
// `couldImprove` takes an optimistic key for a set of nodes (each part the best any of them has)
// and says whether one of them might beat the current best; CandidateBlocks uses it to skip
// whole blocks of nodes. A componentwise best is never worse than the set's lexicographic best,
// so a block it rules out holds no better node. A `filter` (affinity, anti-affinity) only drops
// nodes, so a bound that held for a block still holds for what the filter leaves of it.

/** How much of a node's CPU is free, 0..1 (1 = idle): "least loaded" compares this. */
export function freeShare(state: ClusterState, node: number): number {
  const capacity = state.cpuCapacity[node]!;
  return capacity > 0 ? state.cpuFree[node]! / capacity : 0;
}

/**
 * A replica without GPUs: (spread, prefer nodes without GPUs so they stay free for GPU work,
 * least-loaded CPU, node id), among the nodes with the capacity that `filter` (null: none) allows.
 */
export class CpuChoice {
  /** The chosen node, -1 while none fits. */
  node = -1;
  private spreadCount = 0;
  private hasGpus = 0;
  private share = 0;

  constructor(
    private readonly state: ClusterState,
    private readonly cpu: number,
    private readonly memory: number,
    private readonly spread: Int32Array,
    private readonly filter: GroupFilter | null,
  ) {}

  scan(candidates: Int32Array, from: number, to: number): void {
    const { state, cpu, memory, spread, filter } = this;
    const { cpuFree, memoryFree, hasGpus } = state;
    let best = this.node;
    let bestSpread = this.spreadCount;
    let bestHasGpus = this.hasGpus;
    let bestShare = this.share;
    for (let k = from; k < to; k += 1) {
      const node = candidates[k]!;
      if (cpuFree[node]! < cpu || memoryFree[node]! < memory) continue;
      if (filter !== null && !filter.allows(node)) continue;
      const nodeSpread = spread[node]!;
      const nodeHasGpus = hasGpus[node]!;
      const share = freeShare(state, node);
      if (best >= 0) {
        if (nodeSpread !== bestSpread) {
          if (nodeSpread > bestSpread) continue;
        } else if (nodeHasGpus !== bestHasGpus) {
          if (nodeHasGpus > bestHasGpus) continue;
        } else if (share !== bestShare) {
          if (share < bestShare) continue;
        } else if (node > best) {
          continue;
        }
      }
      best = node;
      bestSpread = nodeSpread;
      bestHasGpus = nodeHasGpus;
      bestShare = share;
    }
    this.node = best;
    this.spreadCount = bestSpread;
    this.hasGpus = bestHasGpus;
    this.share = bestShare;
  }

  couldImprove(minSpread: number, minHasGpus: number, maxShare: number, minNode: number): boolean {
    if (this.node < 0) return true;
    if (minSpread !== this.spreadCount) return minSpread < this.spreadCount;
    if (minHasGpus !== this.hasGpus) return minHasGpus < this.hasGpus;
    if (maxShare !== this.share) return maxShare > this.share;
    return minNode < this.node;
  }
}

/**
 * A replica with GPUs: (spread, tightest GPU fit, least free GPU memory on the node, least-loaded
 * CPU, node id). Bin-packing GPU memory keeps big GPUs and whole nodes free for big models.
 * Once a node is chosen, `fit.fit(node)` gives its GPUs.
 */
export class GpuChoice {
  node = -1;
  private spreadCount = 0;
  private fitScore = 0;
  private total = 0;
  private share = 0;

  constructor(
    private readonly state: ClusterState,
    private readonly cpu: number,
    private readonly memory: number,
    private readonly spread: Int32Array,
    private readonly fit: GpuFit,
    private readonly filter: GroupFilter | null,
  ) {}

  scan(candidates: Int32Array, from: number, to: number): void {
    const { state, cpu, memory, spread, fit, filter } = this;
    const { cpuFree, memoryFree, gpuFreeTotal } = state;
    let best = this.node;
    let bestSpread = this.spreadCount;
    let bestFit = this.fitScore;
    let bestTotal = this.total;
    let bestShare = this.share;
    for (let k = from; k < to; k += 1) {
      const node = candidates[k]!;
      if (cpuFree[node]! < cpu || memoryFree[node]! < memory) continue;
      if (filter !== null && !filter.allows(node)) continue;
      const nodeSpread = spread[node]!;
      if (best >= 0 && nodeSpread > bestSpread) continue;
      const nodeFit = fit.fit(node);
      if (nodeFit === NO_FIT) continue;
      const total = gpuFreeTotal[node]!;
      const share = freeShare(state, node);
      if (best >= 0) {
        if (nodeSpread !== bestSpread) {
          if (nodeSpread > bestSpread) continue;
        } else if (nodeFit !== bestFit) {
          if (nodeFit > bestFit) continue;
        } else if (total !== bestTotal) {
          if (total > bestTotal) continue;
        } else if (share !== bestShare) {
          if (share < bestShare) continue;
        } else if (node > best) {
          continue;
        }
      }
      best = node;
      bestSpread = nodeSpread;
      bestFit = nodeFit;
      bestTotal = total;
      bestShare = share;
    }
    this.node = best;
    this.spreadCount = bestSpread;
    this.fitScore = bestFit;
    this.total = bestTotal;
    this.share = bestShare;
  }

  couldImprove(minSpread: number, minFit: number, minTotal: number, maxShare: number, minNode: number): boolean {
    if (this.node < 0) return true;
    if (minSpread !== this.spreadCount) return minSpread < this.spreadCount;
    if (minFit !== this.fitScore) return minFit < this.fitScore;
    if (minTotal !== this.total) return minTotal < this.total;
    if (maxShare !== this.share) return maxShare > this.share;
    return minNode < this.node;
  }
}

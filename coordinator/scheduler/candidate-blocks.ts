import type { ClusterState } from './cluster-state.js';
import { freeShare, type CpuChoice, type GpuChoice } from './node-choice.js';

/** First position in sorted `values` holding a value >= `target` (values.length if none). */
function lowerBound(values: readonly number[], target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (values[mid]! < target) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** `value` added `count` times, in the order GpuFit sums its keys, so the bound rounds the same way. */
function repeatSum(value: number, count: number): number {
  let sum = 0;
  for (let k = 0; k < count; k += 1) sum += value;
  return sum;
}

/** Per block, for one group: the fewest replicas of the group on any of the block's nodes. */
interface GroupSummary {
  /** Nodes of the block running the group. */
  readonly running: Int32Array;
  /** 0 until every node of the block runs the group. */
  readonly fewest: Int32Array;
}

/** Searches one group at a time over one class; shared empty summary for groups without one. */
const NO_GROUP: GroupSummary = { running: new Int32Array(0), fewest: new Int32Array(0) };

/**
 * One class of candidate nodes (those matching one node selector, or one selector and GPU model)
 * cut into blocks of about sqrt(n) nodes, each with an optimistic summary: the most free CPU and
 * memory of any node in it, the highest free CPU share, the fewest replicas of a group; for GPU
 * classes also the free memory of every matching GPU (sorted), the most whole GPUs any node has
 * idle and the least free GPU memory of any node. A search scans the most promising block first
 * and skips each block whose summary cannot beat the best node found so far, so a placement looks
 * at a few blocks instead of every node, yet picks exactly the node a full scan would.
 */
export class CandidateBlocks {
  readonly blockSize: number;
  readonly blockCount: number;
  /** Node index -> position in `candidates`, -1 when not a candidate. */
  private readonly positions: Int32Array;
  private readonly maxCpu: Float64Array;
  private readonly maxMemory: Float64Array;
  private readonly maxShare: Float64Array;
  private readonly minHasGpus: Uint8Array;
  private readonly minNode: Int32Array;
  private readonly groups = new Map<string, GroupSummary>();
  // GPU classes only (empty otherwise).
  private readonly minTotal: Float64Array;
  private readonly maxIdle: Int32Array;
  /** Static: the smallest matching GPU in the block, a floor for whole-GPU fits. */
  private readonly minGpuMemory: Float64Array;
  /** Free memory of every matching GPU in the block, ascending. */
  private readonly frees: number[][];
  /** Per position: matching GPUs with no claim. */
  private readonly idle: Int32Array;
  // Search scratch.
  private readonly bound: Float64Array;
  private readonly skip: Uint8Array;
  /** The class's nodes among a given few (`scanAmong`); made on first use. */
  private among: Int32Array | null = null;

  /**
   * `candidates` are node indices in any order (ordering similar nodes together tightens the
   * summaries); `mask` selects the GPUs that count for a GPU class (null: all), and is ignored
   * unless `forGpus`.
   */
  constructor(
    private readonly state: ClusterState,
    readonly candidates: Int32Array,
    readonly forGpus: boolean,
    readonly mask: Uint8Array | null,
  ) {
    const n = candidates.length;
    this.blockSize = Math.max(1, Math.ceil(Math.sqrt(n)));
    this.blockCount = Math.ceil(n / this.blockSize);
    const blocks = this.blockCount;
    this.positions = new Int32Array(state.size).fill(-1);
    candidates.forEach((node, position) => {
      this.positions[node] = position;
    });
    this.maxCpu = new Float64Array(blocks);
    this.maxMemory = new Float64Array(blocks);
    this.maxShare = new Float64Array(blocks);
    this.minHasGpus = new Uint8Array(blocks);
    this.minNode = new Int32Array(blocks);
    this.bound = new Float64Array(blocks);
    this.skip = new Uint8Array(blocks);
    const gpuBlocks = forGpus ? blocks : 0;
    this.minTotal = new Float64Array(gpuBlocks);
    this.maxIdle = new Int32Array(gpuBlocks);
    this.minGpuMemory = new Float64Array(gpuBlocks);
    this.frees = [];
    this.idle = new Int32Array(forGpus ? n : 0);

    for (let block = 0; block < blocks; block += 1) {
      const from = block * this.blockSize;
      const to = this.end(block);
      let minNode = Number.MAX_SAFE_INTEGER;
      let minHasGpus = 1;
      for (let k = from; k < to; k += 1) {
        minNode = Math.min(minNode, candidates[k]!);
        minHasGpus = Math.min(minHasGpus, state.hasGpus[candidates[k]!]!);
      }
      this.minNode[block] = minNode;
      this.minHasGpus[block] = minHasGpus;
      if (forGpus) {
        const frees: number[] = [];
        let minMemory = Infinity;
        for (let k = from; k < to; k += 1) {
          const node = candidates[k]!;
          let idle = 0;
          for (let slot = state.gpuStart[node]!; slot < state.gpuStart[node + 1]!; slot += 1) {
            if (mask !== null && mask[slot] === 0) continue;
            frees.push(state.gpuFree[slot]!);
            if (state.gpuClaims[slot] === 0) idle += 1;
            minMemory = Math.min(minMemory, state.gpuMemory[slot]!);
          }
          this.idle[k] = idle;
        }
        this.frees.push(frees.sort((a, b) => a - b));
        this.minGpuMemory[block] = minMemory;
      }
      this.refresh(block, true);
    }
  }

  private end(block: number): number {
    return Math.min(this.candidates.length, (block + 1) * this.blockSize);
  }

  /**
   * Keeps the summaries true after `node` took a replica of `group` (which had `before` replicas
   * there); `slots[k]` had `oldFree[k]` free and `oldClaims[k]` claims before, for k < count.
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
    const position = this.positions[node]!;
    if (position < 0) return;
    const block = Math.floor(position / this.blockSize);
    for (let k = 0; k < count; k += 1) this.gpuChanged(position, slots[k]!, oldFree[k]!, oldClaims[k]!);
    this.refresh(block, count > 0);
    const summary = this.groups.get(group);
    if (summary !== undefined) {
      if (before === 0) summary.running[block] = summary.running[block]! + 1;
      const full = summary.running[block] === this.end(block) - block * this.blockSize;
      // The block's fewest can only have moved if this node held it.
      if (full && before === summary.fewest[block]) summary.fewest[block] = this.fewestOf(group, block);
    }
  }

  private fewestOf(group: string, block: number): number {
    let fewest = Number.MAX_SAFE_INTEGER;
    for (let k = block * this.blockSize; k < this.end(block); k += 1) {
      fewest = Math.min(fewest, this.state.groups.count(group, this.candidates[k]!));
    }
    return fewest;
  }

  /** The group's block summary, built on first use for groups on more than one node. */
  private groupSummary(group: string): GroupSummary {
    const known = this.groups.get(group);
    if (known !== undefined) return known;
    // A group on one node can cost one extra block at most; not worth a summary.
    if (this.state.groups.nodeCount(group) < 2) return NO_GROUP;
    const summary: GroupSummary = { running: new Int32Array(this.blockCount), fewest: new Int32Array(this.blockCount) };
    this.state.groups.forEach(group, (node) => {
      const position = this.positions[node]!;
      if (position >= 0) {
        const block = Math.floor(position / this.blockSize);
        summary.running[block] = summary.running[block]! + 1;
      }
    });
    for (let block = 0; block < this.blockCount; block += 1) {
      if (summary.running[block] === this.end(block) - block * this.blockSize) summary.fewest[block] = this.fewestOf(group, block);
    }
    this.groups.set(group, summary);
    return summary;
  }

  /**
   * Recomputes a block's capacity summary after one of its nodes took a replica; the GPU part
   * only when GPUs were claimed.
   */
  private refresh(block: number, gpusChanged: boolean): void {
    const { state, candidates } = this;
    const { cpuFree, memoryFree } = state;
    const from = block * this.blockSize;
    const to = this.end(block);
    let maxCpu = -Infinity;
    let maxMemory = -Infinity;
    let maxShare = -Infinity;
    for (let k = from; k < to; k += 1) {
      const node = candidates[k]!;
      if (cpuFree[node]! > maxCpu) maxCpu = cpuFree[node]!;
      if (memoryFree[node]! > maxMemory) maxMemory = memoryFree[node]!;
      const share = freeShare(state, node);
      if (share > maxShare) maxShare = share;
    }
    this.maxCpu[block] = maxCpu;
    this.maxMemory[block] = maxMemory;
    this.maxShare[block] = maxShare;
    if (!this.forGpus || !gpusChanged) return;
    let minTotal = Infinity;
    let maxIdle = 0;
    for (let k = from; k < to; k += 1) {
      minTotal = Math.min(minTotal, state.gpuFreeTotal[candidates[k]!]!);
      maxIdle = Math.max(maxIdle, this.idle[k]!);
    }
    this.minTotal[block] = minTotal;
    this.maxIdle[block] = maxIdle;
  }

  private gpuChanged(position: number, slot: number, oldFree: number, oldClaims: number): void {
    if (!this.forGpus || (this.mask !== null && this.mask[slot] === 0)) return;
    const frees = this.frees[Math.floor(position / this.blockSize)]!;
    frees.splice(lowerBound(frees, oldFree), 1);
    const free = this.state.gpuFree[slot]!;
    frees.splice(lowerBound(frees, free), 0, free);
    if (oldClaims === 0 && this.state.gpuClaims[slot] !== 0) this.idle[position] = this.idle[position]! - 1;
  }

  private scanBlock(choice: CpuChoice | GpuChoice, block: number): void {
    choice.scan(this.candidates, block * this.blockSize, this.end(block));
  }

  /** The reference the block search must agree with: every candidate, in order. */
  scanAll(choice: CpuChoice | GpuChoice): void {
    choice.scan(this.candidates, 0, this.candidates.length);
  }

  /**
   * Scans only the candidates among `nodes` (node indices, any order): the whole search when a
   * request can only go on a few known nodes (affinity), which the block summaries know nothing of.
   */
  scanAmong(choice: CpuChoice | GpuChoice, nodes: readonly number[]): void {
    this.among ??= new Int32Array(this.candidates.length);
    const among = this.among;
    let count = 0;
    for (const node of nodes) if (this.positions[node]! >= 0) among[count++] = node;
    choice.scan(among, 0, count);
  }

  searchCpu(choice: CpuChoice, cpu: number, memory: number, group: string): void {
    const { skip } = this;
    const { fewest } = this.groupSummary(group);
    const summarized = fewest.length > 0;
    for (let block = 0; block < this.blockCount; block += 1) {
      skip[block] = this.maxCpu[block]! < cpu || this.maxMemory[block]! < memory ? 1 : 0;
    }
    for (;;) {
      let pick = -1;
      let pickSpread = 0;
      for (let block = 0; block < this.blockCount; block += 1) {
        if (skip[block] === 1) continue;
        const spread = summarized ? fewest[block]! : 0;
        const hasGpus = this.minHasGpus[block]!;
        const share = this.maxShare[block]!;
        const node = this.minNode[block]!;
        // The best only gets better, so a block that cannot beat it now never will.
        if (!choice.couldImprove(spread, hasGpus, share, node)) {
          skip[block] = 1;
          continue;
        }
        if (
          pick < 0 ||
          spread < pickSpread ||
          (spread === pickSpread &&
            (hasGpus < this.minHasGpus[pick]! ||
              (hasGpus === this.minHasGpus[pick]! &&
                (share > this.maxShare[pick]! || (share === this.maxShare[pick]! && node < this.minNode[pick]!)))))
        ) {
          pick = block;
          pickSpread = spread;
        }
      }
      if (pick < 0) return;
      skip[pick] = 1;
      this.scanBlock(choice, pick);
    }
  }

  /** `memoryEach` 0 asks for whole GPUs. */
  searchGpu(choice: GpuChoice, cpu: number, memory: number, count: number, memoryEach: number, group: string): void {
    const { skip, bound } = this;
    const { fewest } = this.groupSummary(group);
    const summarized = fewest.length > 0;
    for (let block = 0; block < this.blockCount; block += 1) {
      skip[block] = 1;
      if (this.maxCpu[block]! < cpu || this.maxMemory[block]! < memory) continue;
      if (memoryEach === 0) {
        if (this.maxIdle[block]! < count) continue;
        bound[block] = repeatSum(this.minGpuMemory[block]!, count);
      } else {
        const frees = this.frees[block]!;
        const at = lowerBound(frees, memoryEach);
        if (at + count > frees.length) continue;
        // Any node's fit sums `count` of these values: at least the `count` smallest of them.
        let sum = 0;
        for (let k = 0; k < count; k += 1) sum += frees[at + k]!;
        bound[block] = sum;
      }
      skip[block] = 0;
    }
    for (;;) {
      let pick = -1;
      let pickSpread = 0;
      for (let block = 0; block < this.blockCount; block += 1) {
        if (skip[block] === 1) continue;
        const spread = summarized ? fewest[block]! : 0;
        const fit = bound[block]!;
        const total = this.minTotal[block]!;
        const share = this.maxShare[block]!;
        const node = this.minNode[block]!;
        if (!choice.couldImprove(spread, fit, total, share, node)) {
          skip[block] = 1;
          continue;
        }
        if (
          pick < 0 ||
          spread < pickSpread ||
          (spread === pickSpread &&
            (fit < bound[pick]! ||
              (fit === bound[pick]! &&
                (total < this.minTotal[pick]! ||
                  (total === this.minTotal[pick]! &&
                    (share > this.maxShare[pick]! || (share === this.maxShare[pick]! && node < this.minNode[pick]!)))))))
        ) {
          pick = block;
          pickSpread = spread;
        }
      }
      if (pick < 0) return;
      skip[pick] = 1;
      this.scanBlock(choice, pick);
    }
  }
}

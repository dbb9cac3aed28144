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

/**
 * One class of candidate nodes (those matching one node selector, or one selector and GPU model)
 * cut into blocks of about sqrt(n) nodes, each with an optimistic summary: the most free CPU and
 * memory of any node in it, the highest free CPU share, and for GPU classes the free memory of
 * every matching GPU (sorted), the most whole GPUs any node has idle and the least free GPU memory
 * of any node. A search scans the most promising block first and skips each block whose summary
 * cannot beat the best node found so far, so a placement looks at a few blocks instead of every
 * node, yet picks exactly the node a full scan would.
 */
export class CandidateBlocks {
  readonly blockSize: number;
  readonly blockCount: number;
  private readonly maxCpu: Float64Array;
  private readonly maxMemory: Float64Array;
  private readonly maxShare: Float64Array;
  private readonly minHasGpus: Uint8Array;
  private readonly minNode: Int32Array;
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
      const to = Math.min(n, from + this.blockSize);
      let minNode = Number.MAX_SAFE_INTEGER;
      for (let k = from; k < to; k += 1) minNode = Math.min(minNode, candidates[k]!);
      this.minNode[block] = minNode;
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
      this.refresh(block);
    }
  }

  blockOf(position: number): number {
    return Math.floor(position / this.blockSize);
  }

  /** Recomputes a block's summary after one of its nodes took a replica. */
  refresh(block: number): void {
    const { state, candidates } = this;
    const from = block * this.blockSize;
    const to = Math.min(candidates.length, from + this.blockSize);
    let maxCpu = -Infinity;
    let maxMemory = -Infinity;
    let maxShare = -Infinity;
    let minHasGpus = 1;
    let minTotal = Infinity;
    let maxIdle = 0;
    for (let k = from; k < to; k += 1) {
      const node = candidates[k]!;
      maxCpu = Math.max(maxCpu, state.cpuFree[node]!);
      maxMemory = Math.max(maxMemory, state.memoryFree[node]!);
      maxShare = Math.max(maxShare, freeShare(state, node));
      minHasGpus = Math.min(minHasGpus, state.hasGpus[node]!);
      if (this.forGpus) {
        minTotal = Math.min(minTotal, state.gpuFreeTotal[node]!);
        maxIdle = Math.max(maxIdle, this.idle[k]!);
      }
    }
    this.maxCpu[block] = maxCpu;
    this.maxMemory[block] = maxMemory;
    this.maxShare[block] = maxShare;
    this.minHasGpus[block] = minHasGpus;
    if (this.forGpus) {
      this.minTotal[block] = minTotal;
      this.maxIdle[block] = maxIdle;
    }
  }

  /** GPU `slot` of the node at `position` went from `oldFree` free and `oldClaims` claims to its current state. */
  gpuChanged(position: number, slot: number, oldFree: number, oldClaims: number): void {
    if (!this.forGpus || (this.mask !== null && this.mask[slot] === 0)) return;
    const frees = this.frees[this.blockOf(position)]!;
    frees.splice(lowerBound(frees, oldFree), 1);
    const free = this.state.gpuFree[slot]!;
    frees.splice(lowerBound(frees, free), 0, free);
    if (oldClaims === 0 && this.state.gpuClaims[slot] !== 0) this.idle[position] = this.idle[position]! - 1;
  }

  private scanBlock(choice: CpuChoice | GpuChoice, block: number): void {
    const from = block * this.blockSize;
    choice.scan(this.candidates, from, Math.min(this.candidates.length, from + this.blockSize));
  }

  searchCpu(choice: CpuChoice, cpu: number, memory: number): void {
    const { skip } = this;
    for (let block = 0; block < this.blockCount; block += 1) {
      skip[block] = this.maxCpu[block]! < cpu || this.maxMemory[block]! < memory ? 1 : 0;
    }
    for (;;) {
      let pick = -1;
      for (let block = 0; block < this.blockCount; block += 1) {
        if (skip[block] === 1) continue;
        const hasGpus = this.minHasGpus[block]!;
        const share = this.maxShare[block]!;
        const node = this.minNode[block]!;
        // The best only gets better, so a block that cannot beat it now never will.
        if (!choice.couldImprove(hasGpus, share, node)) {
          skip[block] = 1;
          continue;
        }
        if (
          pick < 0 ||
          hasGpus < this.minHasGpus[pick]! ||
          (hasGpus === this.minHasGpus[pick]! &&
            (share > this.maxShare[pick]! || (share === this.maxShare[pick]! && node < this.minNode[pick]!)))
        ) {
          pick = block;
        }
      }
      if (pick < 0) return;
      skip[pick] = 1;
      this.scanBlock(choice, pick);
    }
  }

  /** `memoryEach` 0 asks for whole GPUs. */
  searchGpu(choice: GpuChoice, cpu: number, memory: number, count: number, memoryEach: number): void {
    const { skip, bound } = this;
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
      for (let block = 0; block < this.blockCount; block += 1) {
        if (skip[block] === 1) continue;
        const fit = bound[block]!;
        const total = this.minTotal[block]!;
        const share = this.maxShare[block]!;
        const node = this.minNode[block]!;
        if (!choice.couldImprove(fit, total, share, node)) {
          skip[block] = 1;
          continue;
        }
        if (
          pick < 0 ||
          fit < bound[pick]! ||
          (fit === bound[pick]! &&
            (total < this.minTotal[pick]! ||
              (total === this.minTotal[pick]! &&
                (share > this.maxShare[pick]! || (share === this.maxShare[pick]! && node < this.minNode[pick]!)))))
        ) {
          pick = block;
        }
      }
      if (pick < 0) return;
      skip[pick] = 1;
      this.scanBlock(choice, pick);
    }
  }
}

import { GroupCounts } from './group-counts.js';
import type { NodeView, Placement } from './types.js';

// CPU is counted in integer millicores, as Kubernetes does: summing 0.1 + 0.2 cores in floating
// point would make a 0.3-core node look full. Requests round up and capacities round down, so
// rounding can never overcommit a node.
const NEAR_INTEGER = 1e-6;

export function requestMillicores(cores: number): number {
  const scaled = cores * 1000;
  const nearest = Math.round(scaled);
  return Math.abs(scaled - nearest) < NEAR_INTEGER ? nearest : Math.ceil(scaled);
}

export function capacityMillicores(cores: number): number {
  const scaled = cores * 1000;
  const nearest = Math.round(scaled);
  return Math.abs(scaled - nearest) < NEAR_INTEGER ? nearest : Math.floor(scaled);
}

/**
 * The free capacity of the ready nodes while one `place` call runs, in flat typed arrays so the
 * scoring loops stay cheap at thousands of nodes. Node `i` is the i-th ready node by id, so
 * comparing indices breaks ties by node id. GPUs are flattened into "slots": node `i` owns slots
 * `gpuStart[i]` up to `gpuStart[i + 1]`, ordered by GPU index.
 */
export class ClusterState {
  readonly size: number;
  /** Ready nodes, sorted by id. */
  readonly nodes: readonly NodeView[];
  readonly cpuCapacity: Float64Array;
  readonly cpuFree: Float64Array;
  readonly memoryFree: Float64Array;
  /** 1 for nodes with at least one GPU: CPU replicas go elsewhere first. */
  readonly hasGpus: Uint8Array;
  readonly gpuStart: Int32Array;
  readonly gpuIndex: Int32Array;
  readonly gpuMemory: Float64Array;
  readonly gpuFree: Float64Array;
  /** Claims on each slot: a whole-GPU request needs a slot with none. */
  readonly gpuClaims: Int32Array;
  readonly gpuModel: string[];
  /** Per node: free GPU memory summed over its GPUs (node-level bin-packing). */
  readonly gpuFreeTotal: Float64Array;
  /** Per node: the most free memory on any one of its GPUs (cheap pre-check). */
  readonly gpuMaxFree: Float64Array;
  /** Per node: GPUs with no claim at all (cheap pre-check for whole-GPU requests). */
  readonly gpuIdle: Int32Array;

  /** Replicas of each group per node, for spreading. */
  readonly groups: GroupCounts;
  private readonly indexById = new Map<string, number>();

  /** `readyNodes` must be sorted by id and hold only ready nodes. */
  constructor(readyNodes: readonly NodeView[], existing: readonly Placement[]) {
    const size = readyNodes.length;
    this.size = size;
    this.nodes = readyNodes;
    this.cpuCapacity = new Float64Array(size);
    this.cpuFree = new Float64Array(size);
    this.memoryFree = new Float64Array(size);
    this.hasGpus = new Uint8Array(size);
    this.gpuStart = new Int32Array(size + 1);
    this.gpuFreeTotal = new Float64Array(size);
    this.gpuMaxFree = new Float64Array(size);
    this.gpuIdle = new Int32Array(size);
    this.groups = new GroupCounts(size);

    let slots = 0;
    for (let i = 0; i < size; i += 1) {
      const node = readyNodes[i]!;
      this.indexById.set(node.id, i);
      this.cpuCapacity[i] = capacityMillicores(node.cpu);
      this.cpuFree[i] = this.cpuCapacity[i]!;
      this.memoryFree[i] = node.memory;
      this.gpuStart[i] = slots;
      this.hasGpus[i] = node.gpus.length > 0 ? 1 : 0;
      slots += node.gpus.length;
    }
    this.gpuStart[size] = slots;

    this.gpuIndex = new Int32Array(slots);
    this.gpuMemory = new Float64Array(slots);
    this.gpuFree = new Float64Array(slots);
    this.gpuClaims = new Int32Array(slots);
    this.gpuModel = new Array<string>(slots);
    for (let i = 0; i < size; i += 1) {
      const gpus = [...readyNodes[i]!.gpus].sort((a, b) => a.index - b.index);
      let slot = this.gpuStart[i]!;
      for (const gpu of gpus) {
        this.gpuIndex[slot] = gpu.index;
        this.gpuMemory[slot] = gpu.memory;
        this.gpuFree[slot] = gpu.memory;
        this.gpuModel[slot] = gpu.model;
        slot += 1;
      }
    }

    for (const placement of existing) {
      const node = this.indexById.get(placement.nodeId);
      // Placements on nodes that are gone or not ready take nothing from the candidates.
      if (node === undefined) continue;
      this.cpuFree[node] = this.cpuFree[node]! - requestMillicores(placement.cpu);
      this.memoryFree[node] = this.memoryFree[node]! - placement.memory;
      for (const claim of placement.gpus) {
        const slot = this.slotOf(node, claim.index);
        if (slot < 0) continue;
        this.gpuFree[slot] = this.gpuFree[slot]! - claim.memory;
        this.gpuClaims[slot] = this.gpuClaims[slot]! + 1;
      }
      if (placement.group !== undefined) this.groups.add(placement.group, node);
    }
    for (let i = 0; i < size; i += 1) this.refreshGpuSummary(i);
  }

  indexOf(nodeId: string): number | undefined {
    return this.indexById.get(nodeId);
  }

  /** The slot of GPU `index` on node `node`, or -1. */
  slotOf(node: number, index: number): number {
    const end = this.gpuStart[node + 1]!;
    for (let slot = this.gpuStart[node]!; slot < end; slot += 1) {
      if (this.gpuIndex[slot] === index) return slot;
    }
    return -1;
  }

  /**
   * Takes capacity for one replica. `gpuSlots[0..gpuCount)` are the GPUs it uses; each is
   * charged `gpuMemoryEach`, or its whole memory when that is null. Returns the replicas of
   * `group` the node ran before.
   */
  claim(
    node: number,
    cpuMillicores: number,
    memory: number,
    gpuSlots: ArrayLike<number>,
    gpuCount: number,
    gpuMemoryEach: number | null,
    group: string,
  ): number {
    this.cpuFree[node] = this.cpuFree[node]! - cpuMillicores;
    this.memoryFree[node] = this.memoryFree[node]! - memory;
    for (let k = 0; k < gpuCount; k += 1) {
      const slot = gpuSlots[k]!;
      const amount = gpuMemoryEach ?? this.gpuMemory[slot]!;
      this.gpuFree[slot] = this.gpuFree[slot]! - amount;
      this.gpuClaims[slot] = this.gpuClaims[slot]! + 1;
    }
    if (gpuCount > 0) this.refreshGpuSummary(node);
    return this.groups.add(group, node);
  }

  private refreshGpuSummary(node: number): void {
    let total = 0;
    let max = 0;
    let idle = 0;
    const end = this.gpuStart[node + 1]!;
    for (let slot = this.gpuStart[node]!; slot < end; slot += 1) {
      const free = this.gpuFree[slot]!;
      total += free;
      if (free > max) max = free;
      if (this.gpuClaims[slot] === 0) idle += 1;
    }
    this.gpuFreeTotal[node] = total;
    this.gpuMaxFree[node] = max;
    this.gpuIdle[node] = idle;
  }
}

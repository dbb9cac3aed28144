/** Nodes a group must reach before its counts move to a dense array. */
const DENSE_FROM = 64;

interface Group {
  /** Node -> replicas, while the group is small. */
  sparse: Map<number, number> | null;
  /** Replicas per node, once it is big. */
  dense: Int32Array | null;
  /** Distinct nodes running the group. */
  nodes: number;
}

/**
 * Replicas of each group on each node, the input to spreading. Most groups (a stage's replicas)
 * touch a few nodes and are kept sparse; a group on many nodes becomes a dense array that scoring
 * reads directly, so a stage with thousands of replicas does not pay for copying its counts on
 * every placement.
 */
export class GroupCounts {
  private readonly groups = new Map<string, Group>();
  /** Zero everywhere except between `acquire` and `release` of a sparse group. */
  private readonly scratch: Int32Array;

  constructor(private readonly size: number) {
    this.scratch = new Int32Array(size);
  }

  count(group: string, node: number): number {
    const entry = this.groups.get(group);
    if (entry === undefined) return 0;
    return entry.dense !== null ? entry.dense[node]! : (entry.sparse?.get(node) ?? 0);
  }

  /** Distinct nodes running the group. */
  nodeCount(group: string): number {
    return this.groups.get(group)?.nodes ?? 0;
  }

  /** Calls `visit` for each node running the group. */
  forEach(group: string, visit: (node: number, count: number) => void): void {
    const entry = this.groups.get(group);
    if (entry === undefined) return;
    const { dense, sparse } = entry;
    if (dense !== null) {
      for (let node = 0; node < this.size; node += 1) if (dense[node]! > 0) visit(node, dense[node]!);
    } else {
      sparse?.forEach((count, node) => visit(node, count));
    }
  }

  /** Adds one replica of `group` on `node`; returns how many were there before. */
  add(group: string, node: number): number {
    let entry = this.groups.get(group);
    if (entry === undefined) {
      entry = { sparse: new Map(), dense: null, nodes: 0 };
      this.groups.set(group, entry);
    }
    let before: number;
    if (entry.dense !== null) {
      before = entry.dense[node]!;
      entry.dense[node] = before + 1;
    } else {
      const sparse = entry.sparse!;
      before = sparse.get(node) ?? 0;
      sparse.set(node, before + 1);
    }
    if (before === 0) entry.nodes += 1;
    return before;
  }

  /**
   * The group's replicas per node as an array indexed by node, valid until `release(group)`;
   * one group at a time.
   */
  acquire(group: string): Int32Array {
    const entry = this.groups.get(group);
    if (entry === undefined) return this.scratch;
    if (entry.dense !== null) return entry.dense;
    const sparse = entry.sparse!;
    if (sparse.size >= DENSE_FROM) {
      const dense = new Int32Array(this.size);
      for (const [node, count] of sparse) dense[node] = count;
      entry.dense = dense;
      entry.sparse = null;
      return dense;
    }
    for (const [node, count] of sparse) this.scratch[node] = count;
    return this.scratch;
  }

  release(group: string): void {
    const sparse = this.groups.get(group)?.sparse ?? null;
    if (sparse !== null) for (const node of sparse.keys()) this.scratch[node] = 0;
  }
}

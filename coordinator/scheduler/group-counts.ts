/** Nodes a group must reach before its counts move to a dense array. */
const DENSE_FROM = 64;

interface Group {
  /** Node -> replicas, while the group is small. */
  sparse: Map<number, number> | null;
  /** Replicas per node, once it is big. */
  dense: Int32Array | null;
  /** Distinct nodes running the group, in the order they got their first replica. */
  nodes: number[];
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
    return this.groups.get(group)?.nodes.length ?? 0;
  }

  /** The nodes running the group, in no particular order; live: it grows as replicas are added. */
  nodesOf(group: string): readonly number[] {
    return this.entry(group).nodes;
  }

  /** Calls `visit` for each node running the group. */
  forEach(group: string, visit: (node: number, count: number) => void): void {
    const entry = this.groups.get(group);
    if (entry === undefined) return;
    for (const node of entry.nodes) visit(node, this.count(group, node));
  }

  /** Adds one replica of `group` on `node`; returns how many were there before. */
  add(group: string, node: number): number {
    const entry = this.entry(group);
    let before: number;
    if (entry.dense !== null) {
      before = entry.dense[node]!;
      entry.dense[node] = before + 1;
    } else {
      const sparse = entry.sparse!;
      before = sparse.get(node) ?? 0;
      sparse.set(node, before + 1);
    }
    if (before === 0) entry.nodes.push(node);
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
    if (sparse.size >= DENSE_FROM) return this.densify(entry);
    for (const [node, count] of sparse) this.scratch[node] = count;
    return this.scratch;
  }

  release(group: string): void {
    const sparse = this.groups.get(group)?.sparse ?? null;
    if (sparse !== null) for (const node of sparse.keys()) this.scratch[node] = 0;
  }

  /**
   * The group's replicas per node, kept up to date by `add` for the rest of the call (the group
   * turns dense): for filters that read several groups at once. Not between `acquire(group)` and
   * `release(group)`, whose scratch copy it would orphan.
   */
  live(group: string): Int32Array {
    const entry = this.entry(group);
    return entry.dense ?? this.densify(entry);
  }

  private entry(group: string): Group {
    let entry = this.groups.get(group);
    if (entry === undefined) {
      entry = { sparse: new Map(), dense: null, nodes: [] };
      this.groups.set(group, entry);
    }
    return entry;
  }

  private densify(entry: Group): Int32Array {
    const dense = new Int32Array(this.size);
    for (const [node, count] of entry.sparse!) dense[node] = count;
    entry.dense = dense;
    entry.sparse = null;
    return dense;
  }
}

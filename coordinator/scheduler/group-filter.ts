import type { GroupCounts } from './group-counts.js';
import type { ReplicaRequest } from './types.js';

const NONE: readonly string[] = [];

/** Sorted, without repeats: the constraint means the same in whatever order it was written. */
function canonical(groups: readonly string[] | undefined): readonly string[] {
  if (groups === undefined || groups.length === 0) return NONE;
  return [...new Set(groups)].sort();
}

/**
 * A request's affinity and anti-affinity as a filter on nodes: a node passes when it runs a
 * replica of every affinity group and none of any anti-affinity group. It only removes
 * candidates, so the block search's optimistic summaries stay valid with it. It reads the live
 * group counts, so it sees the placements made earlier in the same call.
 */
export class GroupFilter {
  private readonly required: readonly Int32Array[];
  private readonly forbidden: readonly Int32Array[];

  constructor(
    private readonly groups: GroupCounts,
    readonly affinity: readonly string[],
    readonly antiAffinity: readonly string[],
  ) {
    this.required = affinity.map((group) => groups.live(group));
    this.forbidden = antiAffinity.map((group) => groups.live(group));
  }

  allows(node: number): boolean {
    for (const counts of this.required) if (counts[node] === 0) return false;
    for (const counts of this.forbidden) if (counts[node] !== 0) return false;
    return true;
  }

  /**
   * A superset of the nodes that pass: those running the affinity group on the fewest nodes.
   * Null without affinity (any node may pass). Scanning it finds what a full scan finds, since
   * the choice's key does not depend on scan order.
   */
  narrowest(): readonly number[] | null {
    let best: readonly number[] | null = null;
    for (const group of this.affinity) {
      const nodes = this.groups.nodesOf(group);
      if (best === null || nodes.length < best.length) best = nodes;
    }
    return best;
  }

  /**
   * The filter's part of a request's shape. Placements only add replicas, so the nodes passing
   * an anti-affinity filter only shrink during a call; those passing an affinity filter grow only
   * when an affinity group reaches a new node, so its node counts are part of the shape: a shape
   * that fit nowhere then fits nowhere while they stay the same.
   */
  shape(): string {
    const counts = this.affinity.map((group) => this.groups.nodeCount(group)).join(',');
    return `${this.affinity.join('\u0000')}@${counts}|${this.antiAffinity.join('\u0000')}`;
  }
}

/** One filter per distinct constraint in a `place` call; a stage's replicas share theirs. */
export class GroupFilters {
  private readonly byKey = new Map<string, GroupFilter>();
  private readonly byObject = new WeakMap<readonly string[], WeakMap<readonly string[], GroupFilter>>();

  constructor(private readonly groups: GroupCounts) {}

  /**
   * The request's filter, null when it has no constraint. Call before `groups.acquire` of the
   * request's group: a new filter may turn groups dense.
   */
  of(request: ReplicaRequest): GroupFilter | null {
    const affinity = request.affinity ?? NONE;
    const antiAffinity = request.antiAffinity ?? NONE;
    if (affinity.length === 0 && antiAffinity.length === 0) return null;
    const known = this.byObject.get(affinity)?.get(antiAffinity);
    if (known !== undefined) return known;

    const sortedAffinity = canonical(affinity);
    const sortedAnti = canonical(antiAffinity);
    const key = `${sortedAffinity.join('\u0000')}\u0001${sortedAnti.join('\u0000')}`;
    let filter = this.byKey.get(key);
    if (filter === undefined) {
      filter = new GroupFilter(this.groups, sortedAffinity, sortedAnti);
      this.byKey.set(key, filter);
    }
    let inner = this.byObject.get(affinity);
    if (inner === undefined) {
      inner = new WeakMap();
      this.byObject.set(affinity, inner);
    }
    inner.set(antiAffinity, filter);
    return filter;
  }
}

import type { Assignment } from './assignment.js';

const NONE: ReadonlySet<string> = new Set();

/**
 * The run manager's assignments by replica id, with an index by node: a heartbeat looks up its
 * node's replicas without scanning every assignment of every run (1,000 nodes heartbeating each
 * second over thousands of replicas made that scan the coordinator's main cost).
 */
export class AssignmentTable {
  private readonly byId = new Map<string, Assignment>();
  private readonly byNode = new Map<string, Set<string>>();

  get size(): number {
    return this.byId.size;
  }

  get(replicaId: string): Assignment | undefined {
    return this.byId.get(replicaId);
  }

  set(replicaId: string, a: Assignment): this {
    const before = this.byId.get(replicaId);
    if (before !== undefined && before.nodeId !== a.nodeId) this.unindex(replicaId, before.nodeId);
    this.byId.set(replicaId, a);
    if (a.nodeId !== null) {
      let ids = this.byNode.get(a.nodeId);
      if (ids === undefined) this.byNode.set(a.nodeId, (ids = new Set()));
      ids.add(replicaId);
    }
    return this;
  }

  delete(replicaId: string): boolean {
    const before = this.byId.get(replicaId);
    if (before === undefined) return false;
    this.unindex(replicaId, before.nodeId);
    return this.byId.delete(replicaId);
  }

  values(): IterableIterator<Assignment> {
    return this.byId.values();
  }

  /** Replica ids bound to `nodeId`. */
  onNode(nodeId: string): ReadonlySet<string> {
    return this.byNode.get(nodeId) ?? NONE;
  }

  private unindex(replicaId: string, nodeId: string | null): void {
    if (nodeId === null) return;
    const ids = this.byNode.get(nodeId);
    ids?.delete(replicaId);
    if (ids?.size === 0) this.byNode.delete(nodeId);
  }
}

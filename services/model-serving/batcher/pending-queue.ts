/** What the queue needs of a waiting request. */
export interface Queueable {
  /** 0 is the highest. */
  readonly priority: number;
  /** Requests with equal keys can share a batch. */
  readonly key: string;
}

/**
 * Waiting requests by priority level, first in first out within a level, and also grouped by
 * batch key so that forming a batch never scans requests of other shapes. Sets keep insertion
 * order and delete in O(1), which a request that times out or is aborted in mid-queue needs.
 */
export class PendingQueue<T extends Queueable> {
  private readonly levels: Set<T>[];
  private readonly groups = new Map<string, Set<T>[]>();
  private count = 0;

  constructor(private readonly priorityLevels: number) {
    this.levels = Array.from({ length: priorityLevels }, () => new Set<T>());
  }

  get size(): number {
    return this.count;
  }

  add(item: T): void {
    const level = this.levels[item.priority];
    if (level === undefined) throw new RangeError(`priority ${item.priority} is outside 0..${this.priorityLevels - 1}`);
    level.add(item);
    let group = this.groups.get(item.key);
    if (group === undefined) {
      group = Array.from({ length: this.priorityLevels }, () => new Set<T>());
      this.groups.set(item.key, group);
    }
    group[item.priority]?.add(item);
    this.count++;
  }

  /** Removes `item`; false when it was not queued. */
  delete(item: T): boolean {
    if (this.levels[item.priority]?.delete(item) !== true) return false;
    const group = this.groups.get(item.key);
    group?.[item.priority]?.delete(item);
    if (group?.every((s) => s.size === 0) === true) this.groups.delete(item.key);
    this.count--;
    return true;
  }

  /** The oldest request of the highest priority level that has one. */
  head(): T | undefined {
    for (const level of this.levels) {
      for (const item of level) return item;
    }
    return undefined;
  }

  /** Requests with `key`, highest priority first, oldest first within a level. Safe to delete while iterating. */
  *withKey(key: string): Generator<T> {
    const group = this.groups.get(key);
    if (group === undefined) return;
    for (const level of group) yield* level;
  }

  /** Removes and returns every request, in priority order. */
  drain(): T[] {
    const all = this.levels.flatMap((level) => [...level]);
    for (const level of this.levels) level.clear();
    this.groups.clear();
    this.count = 0;
    return all;
  }
}

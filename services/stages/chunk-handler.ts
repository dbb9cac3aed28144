import type { GridlineError } from '../../common/errors.js';
import type { FieldRef } from '../../common/job-payload.js';
import type { WorkItem } from '../items/work-item.js';

/**
 * What each stage kind implements. `process` returns one slot per item: null when the item
 * succeeded, or the error that makes it fail for good (it is counted and recorded, the other
 * items go on). Throwing instead fails the whole chunk, which is retried with backoff.
 */
export interface ChunkHandler {
  process(items: WorkItem<FieldRef>[]): Promise<(GridlineError | null)[]>;
  close(): Promise<void>;
}

import type { BatcherConfig } from './batcher-options.js';

/** A waiting request as the planner sees it. */
export interface Candidate {
  readonly rows: number;
  /** performance.now() when it was queued. */
  readonly enqueuedAt: number;
}

/** Run the first `count` candidates now, or wait until `until` (unless something changes first). */
export type BatchPlan =
  | { readonly kind: 'run'; readonly count: number }
  | { readonly kind: 'wait'; readonly until: number };

export type BatchPolicy = Pick<BatcherConfig, 'maxBatchSize' | 'maxQueueDelayMs' | 'preferredBatchSizes'>;

/**
 * Decides the next batch from candidates that could share it, in the order they must be taken
 * (priority, then age). Takes a prefix only: a request that does not fit ends the batch rather
 * than being skipped, so no lower-priority or younger request goes ahead of it.
 *
 * Runs at once when the batch is full (or cannot grow), when the oldest candidate has waited
 * maxQueueDelayMs; else runs the largest prefix whose rows make a preferred size; else waits.
 */
export function planBatch(candidates: readonly Candidate[], policy: BatchPolicy, now: number): BatchPlan {
  let rows = 0;
  let count = 0;
  let oldest = Infinity;
  let preferredCount = 0;
  let full = false;
  for (const c of candidates) {
    if (rows + c.rows > policy.maxBatchSize) {
      full = true;
      break;
    }
    rows += c.rows;
    count++;
    oldest = Math.min(oldest, c.enqueuedAt);
    if (policy.preferredBatchSizes.includes(rows)) preferredCount = count;
  }
  if (count === 0) return { kind: 'wait', until: Infinity };
  const until = oldest + policy.maxQueueDelayMs;
  if (full || rows === policy.maxBatchSize || now >= until) return { kind: 'run', count };
  if (preferredCount > 0) return { kind: 'run', count: preferredCount };
  return { kind: 'wait', until };
}

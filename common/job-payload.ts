import type { DType } from './tensor.js';
import type { JsonObject } from './json.js';

/**
 * What travels on a stage queue: a chunk of items. Binary fields up to INLINE_LIMIT bytes ride
 * inline (base64); larger ones are claim checks, the bytes stored once in Redis under `blob`.
 */
export const INLINE_LIMIT = 4096;

export type FieldRef =
  | { readonly kind: 'tensor'; readonly dtype: DType; readonly shape: readonly number[]; readonly blob?: string; readonly inline?: string }
  | { readonly kind: 'bytes'; readonly size: number; readonly blob?: string; readonly inline?: string };

export interface ItemEnvelope {
  readonly id: string;
  readonly key: string;
  readonly meta: JsonObject;
  readonly fields: Readonly<Record<string, FieldRef>>;
}

export interface ChunkJob {
  readonly runId: string;
  /** Deterministic (run, source position), the BullMQ job id at every stage, so re-adds dedupe. */
  readonly chunkId: string;
  readonly items: readonly ItemEnvelope[];
}

/** The single job the coordinator puts on a run's source queue to start ingestion. */
export interface SourceJob {
  readonly runId: string;
  readonly chunkId: 'source';
  readonly items: readonly [];
}

/** Counter fields per stage in the run's counters hash: `<stage>:<step>`. */
export type CounterStep = 'queued' | 'active' | 'completed' | 'failed';

export const SOURCE_TOTAL_FIELD = 'source:total';
export const SOURCE_DONE_FIELD = 'source:done';

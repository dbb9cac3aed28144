import type { JsonObject } from './json.js';
import type { Tensor } from './tensor.js';

/**
 * One unit of work flowing through a pipeline (an image, an audio clip, ...), as stage code sees it.
 *
 * - `meta` holds small JSON values; it is what the sink writes out.
 * - Named fields hold binary data: tensors (an image is a uint8 [H,W,C] tensor) or raw bytes
 *   (a file's content). Large fields travel between stages as claim checks in Redis; they are
 *   fetched only when a stage asks for them, and a field a stage does not touch is passed on
 *   without being copied.
 */
export interface Item {
  /** Deterministic: run id + source key + fan-out index. */
  readonly id: string;
  /** Where the item came from (a file path relative to the source root). */
  readonly key: string;
  readonly meta: JsonObject;
  has(field: string): boolean;
  fieldNames(): string[];
  tensor(field: string): Promise<Tensor>;
  bytes(field: string): Promise<Buffer>;
  setTensor(field: string, value: Tensor): void;
  setBytes(field: string, value: Buffer): void;
  delete(field: string): void;
}

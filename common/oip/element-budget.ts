import { GridlineError } from '../errors.js';
import { fieldTooLarge } from './oip-errors.js';
import { formatShape } from './tensor-shape.js';

/** 2^28 elements: 1 GiB of FP32, far beyond any single request a gateway should buffer. */
export const DEFAULT_MAX_ELEMENTS = 2 ** 28;

export interface OipDecodeOptions {
  /** Most elements all inputs of one request may hold together; beyond: PAYLOAD_TOO_LARGE. */
  readonly maxElements?: number;
}

/**
 * Charges each input's element count against the request's limit before anything is allocated
 * for it, so a small request cannot declare a shape that makes the server allocate gigabytes.
 */
export class ElementBudget {
  private readonly max: number;
  private used = 0;

  constructor(options: OipDecodeOptions = {}) {
    const max = options.maxElements ?? DEFAULT_MAX_ELEMENTS;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new GridlineError('INVALID_ARGUMENT', `maxElements must be a non-negative integer, got ${String(max)}`);
    }
    this.max = max;
  }

  /** The element count of `shape`, after charging it; PAYLOAD_TOO_LARGE naming `field` beyond the limit. */
  take(shape: readonly number[], field: string): number {
    let count = 1;
    for (const d of shape) count *= d;
    if (shape.includes(0)) count = 0;
    if (count > this.max) {
      throw fieldTooLarge(field, `${formatShape(shape)} holds ${describeCount(count)} elements, above the limit of ${this.max}`);
    }
    if (this.used + count > this.max) {
      throw fieldTooLarge(
        field,
        `${formatShape(shape)} brings the request's inputs to ${this.used + count} elements, above the limit of ${this.max}`,
      );
    }
    this.used += count;
    return count;
  }
}

function describeCount(count: number): string {
  return Number.isSafeInteger(count) ? String(count) : 'over 2^53';
}

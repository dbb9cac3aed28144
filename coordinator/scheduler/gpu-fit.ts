import type { ClusterState } from './cluster-state.js';

/** `GpuFit.fit` result for a node where the request's GPUs do not fit. */
export const NO_FIT = -1;

/**
 * Best-fit choice of GPUs on one node for one request.
 *
 * - Shared (`memoryEach > 0`): `count` distinct GPUs with at least `memoryEach` free each, taking
 *   those with the least free memory, so several small models fill one GPU before touching the
 *   next and big GPUs stay free for big models.
 * - Whole (`memoryEach === 0`): `count` GPUs with no claim at all, taking the smallest ones.
 *
 * `fit` returns the bin-packing score (free memory on the chosen GPUs, or their total memory for
 * whole GPUs; lower is tighter) and leaves the chosen slots in `chosen[0..count)`.
 */
export class GpuFit {
  readonly chosen: Int32Array;
  private readonly keys: Float64Array;

  constructor(
    private readonly state: ClusterState,
    readonly count: number,
    readonly memoryEach: number,
    /** Slots allowed by the model filter; null: all. */
    private readonly mask: Uint8Array | null,
  ) {
    this.chosen = new Int32Array(count);
    this.keys = new Float64Array(count);
  }

  get whole(): boolean {
    return this.memoryEach === 0;
  }

  fit(node: number): number {
    const { state, count, memoryEach, mask } = this;
    const start = state.gpuStart[node]!;
    const end = state.gpuStart[node + 1]!;
    if (end - start < count) return NO_FIT;
    const whole = memoryEach === 0;
    // Cheap rejections before looking at each GPU.
    if (whole ? state.gpuIdle[node]! < count : state.gpuMaxFree[node]! < memoryEach) return NO_FIT;

    let filled = 0;
    for (let slot = start; slot < end; slot += 1) {
      if (mask !== null && mask[slot] === 0) continue;
      let key: number;
      if (whole) {
        if (state.gpuClaims[slot] !== 0) continue;
        key = state.gpuMemory[slot]!;
      } else {
        key = state.gpuFree[slot]!;
        if (key < memoryEach) continue;
      }
      // Keep the `count` smallest keys, sorted; slots arrive by GPU index, so equal keys keep
      // the lower index.
      if (filled === count && key >= this.keys[count - 1]!) continue;
      let at = filled === count ? count - 1 : filled;
      while (at > 0 && this.keys[at - 1]! > key) {
        this.keys[at] = this.keys[at - 1]!;
        this.chosen[at] = this.chosen[at - 1]!;
        at -= 1;
      }
      this.keys[at] = key;
      this.chosen[at] = slot;
      if (filled < count) filled += 1;
    }
    if (filled < count) return NO_FIT;
    let score = 0;
    for (let k = 0; k < count; k += 1) score += this.keys[k]!;
    return score;
  }
}

/** Plain numbers a Prometheus histogram can be built from (a custom collector, later). */
export interface HistogramSnapshot {
  /** Upper bounds, ascending; an implicit +Inf bucket follows. */
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative: counts[i] ≤ bounds[i], the last entry is +Inf. */
  readonly counts: readonly number[];
  readonly count: number;
  readonly sum: number;
}

export interface Histogram {
  observe(value: number): void;
  snapshot(): HistogramSnapshot;
}

/** Seconds, from 0.25 ms (a tiny model) to 10 s (a large batch of a large one). */
export const LATENCY_BOUNDS_S: readonly number[] = Object.freeze([
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

export function createHistogram(bounds: readonly number[]): Histogram {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let count = 0;
  let sum = 0;
  return {
    observe(value) {
      let i = 0;
      while (i < bounds.length && value > (bounds[i] ?? Infinity)) i++;
      counts[i] = (counts[i] ?? 0) + 1;
      count++;
      sum += value;
    },
    snapshot() {
      return Object.freeze({ bounds, counts: Object.freeze([...counts]), count, sum });
    },
  };
}

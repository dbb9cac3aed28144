/** One decoded text line. */
export interface CtcLine {
  readonly text: string;
  /** Mean of the kept steps' maximum probabilities; 0 for an empty line. */
  readonly confidence: number;
}

/**
 * Greedy CTC decoding of row-major [n, steps, classes] probabilities: argmax per step, collapse
 * repeats, drop the blank. `vocabulary` lists every class except the blank, in class order, so
 * with blankIndex 0 class i is vocabulary[i - 1].
 */
export function ctcGreedyDecode(
  probs: ArrayLike<number>,
  n: number,
  steps: number,
  classes: number,
  vocabulary: readonly string[],
  blankIndex = 0,
): CtcLine[] {
  if (probs.length !== n * steps * classes) {
    throw new RangeError(`ctc: ${probs.length} values do not form [${n},${steps},${classes}]`);
  }
  const lines: CtcLine[] = [];
  for (let i = 0; i < n; i++) {
    let text = '';
    let sum = 0;
    let kept = 0;
    let prev = -1;
    for (let t = 0; t < steps; t++) {
      const base = (i * steps + t) * classes;
      let best = 0;
      let bestP = probs[base] ?? -Infinity;
      for (let k = 1; k < classes; k++) {
        const p = probs[base + k] ?? -Infinity;
        if (p > bestP) {
          bestP = p;
          best = k;
        }
      }
      if (best !== prev && best !== blankIndex) {
        text += vocabulary[best > blankIndex ? best - 1 : best] ?? '';
        sum += bestP;
        kept++;
      }
      prev = best;
    }
    lines.push({ text, confidence: kept === 0 ? 0 : sum / kept });
  }
  return lines;
}

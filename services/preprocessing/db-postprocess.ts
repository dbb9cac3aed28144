import { connectedComponents } from './connected-components.js';
import type { Rect } from './text-lines.js';

export interface DbOptions {
  /** Probability above which a pixel is text. */
  readonly threshold: number;
  /** Minimum mean probability over a box's rectangle. */
  readonly boxThreshold: number;
  /** How far to grow the shrunk text kernels DB predicts (d = area·ratio / perimeter). */
  readonly unclipRatio: number;
  /** Minimum box side, in map pixels before unclipping and in image pixels after scaling. */
  readonly minSize: number;
  readonly maxBoxes: number;
  /** Size of the original image the map was computed for. */
  readonly imageWidth: number;
  readonly imageHeight: number;
}

/** Rows whose tops differ by less than this (image pixels) count as one line: PaddleOCR's sorted_boxes. */
const SAME_LINE_PX = 10;

/**
 * DB (Differentiable Binarization) post-processing, following PaddleOCR's DBPostProcess with
 * score_mode "fast", restricted to axis-aligned boxes: rotated or curved text gets its bounding
 * rectangle, which is a known limit. Returns rectangles in image pixels, top-to-bottom then
 * left-to-right.
 */
export function findTextBoxes(prob: Float32Array, mapWidth: number, mapHeight: number, o: DbOptions): Rect[] {
  const n = mapWidth * mapHeight;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = (prob[i] ?? 0) > o.threshold ? 1 : 0;

  // Summed-area table of the probabilities: each box's mean in O(1).
  const sw = mapWidth + 1;
  const sat = new Float64Array(sw * (mapHeight + 1));
  for (let y = 0; y < mapHeight; y++) {
    let row = 0;
    for (let x = 0; x < mapWidth; x++) {
      row += prob[y * mapWidth + x] ?? 0;
      sat[(y + 1) * sw + x + 1] = (sat[y * sw + x + 1] ?? 0) + row;
    }
  }
  const rectMean = (x0: number, y0: number, x1: number, y1: number): number => {
    const s = (sat[(y1 + 1) * sw + x1 + 1] ?? 0) - (sat[y0 * sw + x1 + 1] ?? 0)
      - (sat[(y1 + 1) * sw + x0] ?? 0) + (sat[y0 * sw + x0] ?? 0);
    return s / ((x1 - x0 + 1) * (y1 - y0 + 1));
  };

  const sx = o.imageWidth / mapWidth;
  const sy = o.imageHeight / mapHeight;
  const boxes: Rect[] = [];
  for (const c of connectedComponents(mask, mapWidth, mapHeight)) {
    // Like cv2.minAreaRect over contour points: sides run between pixel centres.
    const w = c.maxX - c.minX;
    const h = c.maxY - c.minY;
    if (Math.min(w, h) < o.minSize) continue;
    if (rectMean(c.minX, c.minY, c.maxX, c.maxY) < o.boxThreshold) continue;
    // Unclip: the offset polygon of a rectangle grown by d, whose bounding rectangle is this.
    const d = (w * h * o.unclipRatio) / (2 * (w + h));
    if (Math.min(w, h) + 2 * d < o.minSize + 2) continue;
    const x1 = clamp(Math.round((c.minX - d) * sx), 0, o.imageWidth);
    const x2 = clamp(Math.round((c.maxX + d) * sx), 0, o.imageWidth);
    const y1 = clamp(Math.round((c.minY - d) * sy), 0, o.imageHeight);
    const y2 = clamp(Math.round((c.maxY + d) * sy), 0, o.imageHeight);
    if (Math.min(x2 - x1, y2 - y1) < Math.max(1, o.minSize)) continue;
    boxes.push({ x1, y1, x2, y2 });
  }
  return sortReadingOrder(boxes).slice(0, o.maxBoxes);
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Top-to-bottom, then left-to-right among boxes whose tops are within SAME_LINE_PX. */
export function sortReadingOrder(boxes: readonly Rect[]): Rect[] {
  const out = [...boxes].sort((a, b) => a.y1 - b.y1 || a.x1 - b.x1);
  for (let i = 0; i < out.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = out[j];
      const b = out[j + 1];
      if (a === undefined || b === undefined || Math.abs(b.y1 - a.y1) >= SAME_LINE_PX || b.x1 >= a.x1) break;
      out[j] = b;
      out[j + 1] = a;
    }
  }
  return out;
}

/** Bounding rectangle (inclusive pixel indices) and pixel count of one connected component. */
export interface Component {
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
  readonly area: number;
}

/**
 * 8-connected components of the non-zero pixels of a row-major width × height mask, in raster
 * order of their first pixel. Iterative flood fill with an explicit stack: a large blob would
 * overflow the call stack with recursion.
 */
export function connectedComponents(mask: Uint8Array, width: number, height: number): Component[] {
  const n = width * height;
  if (mask.length !== n) throw new RangeError(`mask has ${mask.length} pixels, expected ${width}×${height}`);
  const seen = new Uint8Array(n);
  // Each pixel is pushed at most once (marked when pushed), so n slots suffice.
  const stack = new Int32Array(n);
  const out: Component[] = [];
  for (let start = 0; start < n; start++) {
    if (mask[start] === 0 || seen[start] === 1) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let minX = width, minY = height, maxX = -1, maxY = -1, area = 0;
    while (top > 0) {
      const p = stack[--top] ?? 0;
      const x = p % width;
      const y = (p - x) / width;
      area++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      const y0 = y > 0 ? y - 1 : y, y1 = y < height - 1 ? y + 1 : y;
      const x0 = x > 0 ? x - 1 : x, x1 = x < width - 1 ? x + 1 : x;
      for (let ny = y0; ny <= y1; ny++) {
        for (let nx = x0; nx <= x1; nx++) {
          const q = ny * width + nx;
          if (mask[q] !== 0 && seen[q] === 0) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    out.push({ minX, minY, maxX, maxY, area });
  }
  return out;
}

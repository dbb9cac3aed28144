import { GridlineError } from '../../common/errors.js';
import type { Item } from '../../common/item.js';
import type { JsonObject, JsonValue } from '../../common/json.js';

/** An axis-aligned text box as four integer corners: top-left, top-right, bottom-right, bottom-left. */
export type Box = [[number, number], [number, number], [number, number], [number, number]];

/** A rectangle in pixels: x1 ≤ x < x2, y1 ≤ y < y2. */
export interface Rect {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export function rectToBox(r: Rect): Box {
  return [[r.x1, r.y1], [r.x2, r.y1], [r.x2, r.y2], [r.x1, r.y2]];
}

function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `meta.lines` of an item (the OCR result: one object per text line), or undefined when absent.
 * Throws INVALID_ITEM when it is there but not an array of objects.
 */
export function getLines(item: Item): JsonObject[] | undefined {
  const lines = item.meta['lines'];
  if (lines === undefined) return undefined;
  if (!Array.isArray(lines) || !lines.every(isJsonObject)) {
    throw new GridlineError('INVALID_ITEM', `item ${item.key}: meta.lines must be an array of objects`);
  }
  return lines;
}

/** The bounding rectangle of each `meta.lines[i].box`; throws INVALID_ITEM naming the bad entry. */
export function getLineRects(item: Item): Rect[] {
  const lines = getLines(item);
  if (lines === undefined) {
    throw new GridlineError('INVALID_ITEM', `item ${item.key} has no meta.lines (run ocr.boxes first)`);
  }
  return lines.map((line, i) => {
    const box = line['box'];
    const ok = Array.isArray(box) && box.length >= 1 && box.every((p) =>
      Array.isArray(p) && p.length === 2 && p.every((c) => typeof c === 'number' && Number.isFinite(c)));
    if (!ok) {
      throw new GridlineError('INVALID_ITEM', `item ${item.key}: meta.lines[${i}].box must be a list of [x, y] number pairs`);
    }
    const pts = box as [number, number][];
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    return { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) };
  });
}

import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter } from 'yaml';
import type { IssuePath } from './issue-path.js';

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/**
 * Maps a document path to where it is written; null when the text gives no position. For a map
 * entry, `value` (the default) points at the value, `key` at the key (for an unknown field).
 */
export type SourceLocator = (path: IssuePath, target?: 'key' | 'value') => SourcePosition | null;

export const NO_SOURCE_POSITIONS: SourceLocator = () => null;

/**
 * Walks the parsed YAML (or JSON, which the YAML parser reads too) along the path. Where the path
 * leaves the document (a missing field), the deepest node that exists is used: a missing field is
 * reported at its parent's key.
 */
export function yamlSourceLocator(doc: Document, lineCounter: LineCounter): SourceLocator {
  return (path, target = 'value') => {
    let node: unknown = doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [depth, segment] of path.entries()) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (pair === undefined) break;
        const key = rangeStart(pair.key);
        const last = depth === path.length - 1;
        offset = (last && target === 'value' ? rangeStart(pair.value) : undefined) ?? key ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item: unknown = node.items[segment];
        if (item === undefined) break;
        offset = rangeStart(item) ?? offset;
        node = item;
      } else {
        break;
      }
    }
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object' || !('range' in node)) return undefined;
  const range = (node as { range?: readonly number[] | null }).range;
  return range?.[0];
}

import type { CST } from 'yaml';

export interface TooDeep {
  /** Offset of the first collection nested deeper than the limit. */
  readonly offset: number;
}

/**
 * Finds the first map or list nested more than `limit` levels deep in the YAML parser's concrete
 * syntax tree, without recursion. The parser builds that tree with a stack of its own, but the
 * composer and everything after it recurse once per level: a deep document must be refused here,
 * before them. (Near a stack overflow V8 can abort the process while compiling a regular
 * expression instead of throwing a RangeError, so catching the overflow is not enough.)
 */
export function findTooDeep(tokens: readonly CST.Token[], limit: number): TooDeep | null {
  const stack: { token: CST.Token; depth: number }[] = [];
  for (const token of tokens) {
    if (token.type === 'document' && token.value !== undefined) stack.push({ token: token.value, depth: 0 });
  }
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth + 1 > limit) return { offset: token.offset };
    for (const item of token.items) {
      if (item.key !== undefined && item.key !== null) stack.push({ token: item.key, depth: depth + 1 });
      if (item.value !== undefined) stack.push({ token: item.value, depth: depth + 1 });
    }
  }
  return null;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
// eslint-disable-next-line no-control-regex -- JSON strings may not hold raw control characters.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

/**
 * Offset of the first JSON syntax error in `text`, or null when it is valid. Node 20's
 * JSON.parse names the offset in some messages only, so positions come from here. Iterative,
 * so deep nesting cannot overflow the stack.
 */
export function jsonErrorOffset(text: string): number | null {
  let i = 0;
  const skipWhitespace = (): void => {
    while (i < text.length && WHITESPACE.has(text.charAt(i))) i += 1;
  };
  const match = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  /** `"key"` then `:`; false at the first wrong character. */
  const key = (): boolean => {
    if (!match(STRING)) return false;
    skipWhitespace();
    if (text.charAt(i) !== ':') return false;
    i += 1;
    return true;
  };

  const open: string[] = [];
  skipWhitespace();
  for (;;) {
    // A value is expected at i.
    skipWhitespace();
    const c = text.charAt(i);
    let nested = false;
    if (c === '{' || c === '[') {
      i += 1;
      skipWhitespace();
      if (text.charAt(i) === (c === '{' ? '}' : ']')) {
        i += 1;
      } else {
        open.push(c);
        if (c === '{' && !key()) return i;
        nested = true;
      }
    } else if (!match(STRING) && !match(NUMBER) && !match(LITERAL)) {
      return i;
    }
    if (nested) continue;
    // After a value: close containers, or a comma leads to the next value.
    for (;;) {
      skipWhitespace();
      const top = open[open.length - 1];
      if (top === undefined) return i < text.length ? i : null;
      const d = text.charAt(i);
      if (d === ',') {
        i += 1;
        skipWhitespace();
        if (top === '{' && !key()) return i;
        break;
      }
      if (d !== (top === '{' ? '}' : ']')) return i;
      i += 1;
      open.pop();
    }
  }
}

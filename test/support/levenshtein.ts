/** Edit distance between two strings (insertions, deletions, substitutions). */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The ten lines of pipelines/data/bw_text.png as PP-OCRv4 reads them (../shared/data/README.md). */
export const BW_TEXT_LINES = [
  'Men may seem detestable as joint',
  'stock-companies and nations; knaves,',
  'fools, and murderers there may be;',
  'men may have mean and meagre',
  'faces; but, man, in the ideal, is so',
  'noble and so sparkling, such a grand',
  'and glowing creature, that over any',
  'ignominious blemish in him all his',
  'fellows should run to throw their',
  'costliest robes.',
] as const;

import { readFileSync } from 'node:fs';
import { GridlineError } from '../../../common/errors.js';
import { ctcGreedyDecode } from '../../model-serving/ctc-decode.js';
import type { OpFactory, OpParams } from '../op.js';
import { getLines } from '../text-lines.js';

/** One entry per line of the file (PaddleOCR's dictionary format), plus " " when appendSpace. */
export function parseVocabulary(text: string, appendSpace: boolean): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (appendSpace) lines.push(' ');
  return lines;
}

/**
 * ctc.decode: [N,T,C] class probabilities in `from` → meta.lines[i].text / .confidence.
 * A missing or empty `from` means no lines (the model was skipped for an item with no crops).
 */
export const ctcDecodeOp: OpFactory<OpParams<'ctc.decode'>> = {
  name: 'ctc.decode',
  create(p, ctx) {
    const path = ctx.resolveUri(p.vocabulary);
    let vocabulary: string[];
    try {
      vocabulary = parseVocabulary(readFileSync(path, 'utf8'), p.appendSpace);
    } catch (err) {
      throw new GridlineError('MODEL_LOAD_FAILED', `ctc.decode: cannot read vocabulary ${p.vocabulary} (${path})`, { cause: err });
    }
    const classes = vocabulary.length + 1;
    if (p.blankIndex >= classes) {
      throw new GridlineError('INVALID_PIPELINE', `ctc.decode: blankIndex ${p.blankIndex} is outside the ${classes} classes of ${p.vocabulary}`);
    }
    return {
      name: 'ctc.decode',
      async apply(item) {
        let decoded: { text: string; confidence: number }[] = [];
        if (item.has(p.from)) {
          const probs = await item.tensor(p.from);
          const [n, t, c] = probs.shape;
          const floating = probs.dtype === 'float32' || probs.dtype === 'float64';
          if (!floating || probs.shape.length !== 3 || n === undefined || t === undefined || c === undefined) {
            throw new GridlineError(
              'INVALID_ITEM',
              `item ${item.key}: field "${p.from}" must be float [N,T,C] class probabilities, got ${probs.dtype} [${probs.shape.join(',')}]`,
            );
          }
          if (n > 0 && c !== classes) {
            throw new GridlineError(
              'INVALID_ITEM',
              `item ${item.key}: field "${p.from}" has ${c} classes but vocabulary ${p.vocabulary} gives ${classes} (blank + ${vocabulary.length})`,
            );
          }
          decoded = ctcGreedyDecode(probs.data as Float32Array | Float64Array, n, t, c, vocabulary, p.blankIndex);
        }
        const lines = getLines(item);
        if (lines === undefined) {
          item.meta['lines'] = decoded.map((d) => ({ text: d.text, confidence: d.confidence }));
          return;
        }
        if (lines.length !== decoded.length) {
          throw new GridlineError(
            'INVALID_ITEM',
            `item ${item.key}: meta.lines has ${lines.length} entries but field "${p.from}" holds ${decoded.length} lines`,
          );
        }
        lines.forEach((line, i) => {
          const d = decoded[i];
          if (d === undefined) return;
          line['text'] = d.text;
          line['confidence'] = d.confidence;
        });
      },
    };
  },
};

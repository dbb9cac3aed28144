import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { tensor } from '../../../common/tensor.js';
import { WorkItem } from '../../items/work-item.js';
import { createOp } from '../op-registry.js';
import { parseVocabulary } from './ctc-decode.js';

const dir = mkdtempSync(join(tmpdir(), 'gridline-ctc-'));
const vocabPath = join(dir, 'keys.txt');
writeFileSync(vocabPath, 'a\nb\r\nc\n');
const ctx = { logger: silentLogger, resolveUri: (u: string) => (u === 'npm:keys' ? vocabPath : u) };

/** One-hot [1, T, 5] probabilities (classes: blank, a, b, c, space) with the given winners. */
function probs(winners: number[], p = 0.8): Float32Array {
  const out = new Float32Array(winners.length * 5).fill((1 - p) / 4);
  winners.forEach((k, t) => { out[t * 5 + k] = p; });
  return out;
}

describe('ctc.decode op', () => {
  it('reads the vocabulary like PaddleOCR (one entry per line, optional space)', () => {
    expect(parseVocabulary('a\nb\r\nc\n', true)).toEqual(['a', 'b', 'c', ' ']);
    expect(parseVocabulary('a\nb', false)).toEqual(['a', 'b']);
  });

  it('fills text and confidence into existing meta.lines', async () => {
    const item = new WorkItem({ id: '1', key: 'k' });
    item.meta['lines'] = [{ box: [[0, 0]] }, { box: [[1, 1]] }];
    const data = new Float32Array([...probs([1, 1, 0, 4, 3]), ...probs([0, 0, 0, 0, 0])]);
    item.setTensor('y', tensor('float32', [2, 5, 5], data));
    await (await createOp({ op: 'ctc.decode', params: { vocabulary: 'npm:keys' } }, ctx)).apply(item);
    const lines = item.meta['lines'] as { text: string; confidence: number; box: unknown }[];
    expect(lines[0]).toMatchObject({ text: 'a c', box: [[0, 0]] });
    expect(lines[0]?.confidence).toBeCloseTo(0.8);
    expect(lines[1]).toMatchObject({ text: '', confidence: 0 });
  });

  it('creates meta.lines when absent, and treats a missing field as no lines', async () => {
    const op = await createOp({ op: 'ctc.decode', params: { vocabulary: 'npm:keys' } }, ctx);
    const a = new WorkItem({ id: '1', key: 'k' });
    a.setTensor('y', tensor('float32', [1, 2, 5], probs([2, 3])));
    await op.apply(a);
    expect(a.meta['lines']).toMatchObject([{ text: 'bc' }]);
    const b = new WorkItem({ id: '2', key: 'k2' });
    await op.apply(b);
    expect(b.meta['lines']).toEqual([]);
  });

  it('rejects a class count that does not match the vocabulary, and a missing vocabulary', async () => {
    const item = new WorkItem({ id: '1', key: 'k' });
    item.setTensor('y', tensor('float32', [1, 1, 7], new Float32Array(7)));
    const op = await createOp({ op: 'ctc.decode', params: { vocabulary: 'npm:keys' } }, ctx);
    await expect(op.apply(item)).rejects.toMatchObject({ code: 'INVALID_ITEM', message: expect.stringContaining('7 classes') as unknown });
    await expect(createOp({ op: 'ctc.decode', params: { vocabulary: join(dir, 'nope.txt') } }, ctx)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
  });
});

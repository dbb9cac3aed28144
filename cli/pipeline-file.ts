import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { GridlineError } from '../common/errors.js';
import { parsePipeline } from '../common/pipeline/parse-pipeline.js';
import type { PipelineSpec } from '../common/pipeline/types.js';

export interface PipelineFile {
  readonly path: string;
  /** The document with source and sink paths made absolute (relative to the file's folder). */
  readonly text: string;
  readonly spec: PipelineSpec;
  readonly format: 'yaml' | 'json';
}

/**
 * Reads and validates a pipeline file. Paths inside it are relative to the file, not to wherever
 * the coordinator runs, so they are made absolute here before the text is sent.
 */
export async function readPipelineFile(file: string): Promise<PipelineFile> {
  const path = resolve(file);
  const raw = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new GridlineError('INVALID_ARGUMENT', `cannot read pipeline file ${file}: ${err.code ?? err.message}`);
  });
  const format = path.endsWith('.json') ? 'json' : 'yaml';
  // Validate the text as written first, so line numbers in errors match the user's file.
  parsePipeline(raw, { format, sourceName: file });
  const doc = parseDocument(raw);
  for (const keyPath of [['spec', 'source', 'path'], ['spec', 'sink', 'path']]) {
    const value = doc.getIn(keyPath);
    if (typeof value === 'string' && !isAbsolute(value)) doc.setIn(keyPath, resolve(dirname(path), value));
  }
  const text = format === 'json' ? JSON.stringify(doc.toJS()) : doc.toString();
  return { path, text, spec: parsePipeline(text, { format, sourceName: file }), format };
}

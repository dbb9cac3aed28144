import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { GridlineError } from '../common/errors.js';
import { MODULE_OP } from '../common/ops/declarations.js';
import { parseWorkload } from '../common/pipeline/parse-pipeline.js';
import type { OpSpec } from '../common/pipeline/types.js';
import type { WorkloadSpec } from '../common/pipeline/workload.js';

export interface PipelineFile {
  readonly path: string;
  /** The document with its file paths made absolute (relative to the file's folder). */
  readonly text: string;
  readonly spec: WorkloadSpec;
  readonly format: 'yaml' | 'json';
}

/** A relative `file:` or plain model uri made absolute against `dir`; `npm:` uris stay as they are. */
function absoluteUri(uri: string, dir: string): string {
  if (uri.startsWith('npm:')) return uri;
  const path = uri.startsWith('file:') ? uri.slice('file:'.length) : uri;
  return isAbsolute(path) ? uri : `file:${resolve(dir, path)}`;
}

/**
 * Reads and validates a pipeline or model deployment file. Paths inside it are relative to the
 * file, not to wherever the coordinator or workers run, so they are made absolute here before
 * the text is sent.
 */
export async function readPipelineFile(file: string): Promise<PipelineFile> {
  const path = resolve(file);
  const raw = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new GridlineError('INVALID_ARGUMENT', `cannot read pipeline file ${file}: ${err.code ?? err.message}`);
  });
  const format = path.endsWith('.json') ? 'json' : 'yaml';
  // Validate the text as written first, so line numbers in errors match the user's file.
  const written = parseWorkload(raw, { format, sourceName: file });
  const doc = parseDocument(raw);
  const dir = dirname(path);
  const absolute = (keyPath: readonly (string | number)[], make: (value: string) => string): void => {
    const value = doc.getIn(keyPath);
    if (typeof value === 'string') doc.setIn(keyPath, make(value));
  };
  if (written.kind === 'ModelDeployment') {
    absolute(['spec', 'model', 'uri'], (uri) => absoluteUri(uri, dir));
  } else {
    for (const keyPath of [['spec', 'source', 'path'], ['spec', 'sink', 'path']]) {
      absolute(keyPath, (p) => (isAbsolute(p) ? p : resolve(dir, p)));
    }
    written.stages.forEach((stage, i) => {
      if (stage.type === 'model-serving') absolute(['spec', 'stages', i, 'model', 'uri'], (uri) => absoluteUri(uri, dir));
      // Op modules and vocabularies are files beside the pipeline too.
      const lists: [string, readonly OpSpec[]][] = stage.type === 'preprocessing' ? [['ops', stage.ops]] : [['preprocess', stage.preprocess], ['postprocess', stage.postprocess]];
      for (const [list, ops] of lists) {
        ops.forEach((op, j) => {
          const at = ['spec', 'stages', i, list, j, op.op];
          if (op.op === MODULE_OP) absolute([...at, 'path'], (p) => (isAbsolute(p) ? p : resolve(dir, p)));
          if (op.op === 'ctc.decode') absolute([...at, 'vocabulary'], (uri) => absoluteUri(uri, dir));
        });
      }
    });
  }
  // No folding: lines stay where the user wrote them, so the coordinator's issues point at the file's lines.
  const text = format === 'json' ? JSON.stringify(doc.toJS()) : doc.toString({ lineWidth: 0 });
  return { path, text, spec: parseWorkload(text, { format, sourceName: file }), format };
}

import { fileURLToPath } from 'node:url';
import { MODULE_OP } from '../ops/declarations.js';
import type { IssuePath } from './issue-path.js';
import type { OpSpec } from './types.js';
import type { WorkloadSpec } from './workload.js';

/** How a workload uses a path: the operator's allow-list covers reads and writes; modules also need an op-module folder on the worker. */
export type PathUse = 'read' | 'write' | 'module';

export interface WorkloadPath {
  /** Where the path is written in the document (`spec.source.path`). */
  readonly at: IssuePath;
  /** The path as given, without a `file:` prefix; relative ones are relative to the reader's working directory. */
  readonly path: string;
  readonly use: PathUse;
}

/** The local path a model or vocabulary uri names; null for `npm:` (a file of an installed package). */
export function uriPath(uri: string): string | null {
  if (uri.startsWith('npm:')) return null;
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  return uri.startsWith('file:') ? uri.slice('file:'.length) : uri;
}

function opPaths(ops: readonly OpSpec[], at: IssuePath): WorkloadPath[] {
  return ops.flatMap((op, i): WorkloadPath[] => {
    const where = [...at, i, op.op];
    if (op.op === MODULE_OP && typeof op.params['path'] === 'string') return [{ at: [...where, 'path'], path: op.params['path'], use: 'module' }];
    if (op.op === 'ctc.decode' && typeof op.params['vocabulary'] === 'string') {
      const path = uriPath(op.params['vocabulary']);
      return path === null ? [] : [{ at: [...where, 'vocabulary'], path, use: 'read' }];
    }
    return [];
  });
}

/**
 * Every local path a workload reads, writes or loads code from: the source folder, the sink file,
 * model files (not `npm:` ones), vocabularies and custom op modules. The coordinator checks them
 * against its allowed directories at submit time; workers check each where they use it.
 */
export function workloadPaths(spec: WorkloadSpec): WorkloadPath[] {
  if (spec.kind === 'ModelDeployment') {
    const path = uriPath(spec.model.uri);
    return path === null ? [] : [{ at: ['spec', 'model', 'uri'], path, use: 'read' }];
  }
  const paths: WorkloadPath[] = [{ at: ['spec', 'source', 'path'], path: spec.source.path, use: 'read' }];
  spec.stages.forEach((stage, i) => {
    const at = ['spec', 'stages', i];
    if (stage.type === 'preprocessing') {
      paths.push(...opPaths(stage.ops, [...at, 'ops']));
      return;
    }
    const model = uriPath(stage.model.uri);
    if (model !== null) paths.push({ at: [...at, 'model', 'uri'], path: model, use: 'read' });
    paths.push(...opPaths(stage.preprocess, [...at, 'preprocess']), ...opPaths(stage.postprocess, [...at, 'postprocess']));
  });
  paths.push({ at: ['spec', 'sink', 'path'], path: spec.sink.path, use: 'write' });
  return paths;
}

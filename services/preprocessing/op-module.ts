import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { GridlineError } from '../../common/errors.js';
import type { Item } from '../../common/item.js';
import type { Logger } from '../../common/logger.js';
import { allowedOpModulePath, type FileAccess } from '../file-access/file-access.js';

/** What a custom op module's createOp gets besides its params. */
export interface OpModuleContext {
  readonly logger: Logger;
  /** Resolves a `npm:`, `file:` or plain URI to a local path inside the worker's allowed directories. */
  resolveUri(uri: string): string;
}

/** What createOp returns: applied to each item in place (meta and fields); closed when the replica stops. */
export interface CustomOp {
  apply(item: Item): void | Promise<void>;
  close?(): void | Promise<void>;
}

/**
 * The interface of a custom op module: a named export `createOp(params, ctx)`, or the same
 * function as the default export. It may be async.
 */
export type CreateCustomOp = (params: Readonly<Record<string, unknown>>, ctx: OpModuleContext) => CustomOp | Promise<CustomOp>;

function invalid(path: string, message: string, cause?: unknown): GridlineError {
  return new GridlineError('INVALID_PIPELINE', `op module ${path}: ${message}`, { details: { module: path }, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Imports a custom op module from one of the worker's op-module folders (PERMISSION_DENIED
 * elsewhere, or when it allows none) and returns its createOp. Node imports a file once per
 * process: a changed module takes effect when the worker restarts.
 */
export async function loadOpModule(path: string, access: FileAccess | undefined): Promise<CreateCustomOp> {
  const real = allowedOpModulePath(path, access ?? { allowedDirs: [], opModuleDirs: [], cwd: process.cwd() });
  let isFile = false;
  try {
    isFile = statSync(real).isFile();
  } catch {
    // reported below
  }
  if (!isFile) throw invalid(path, 'no such file on this worker');
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(real).href)) as Record<string, unknown>;
  } catch (err) {
    throw invalid(path, `cannot be imported: ${(err as Error).message}`, err);
  }
  const create = typeof exports['createOp'] === 'function' ? exports['createOp'] : exports['default'];
  if (typeof create !== 'function') {
    const names = Object.keys(exports);
    throw invalid(path, `exports no createOp(params, ctx) function: export one by that name, or as the default export (it exports ${names.length > 0 ? names.join(', ') : 'nothing'})`);
  }
  return create as CreateCustomOp;
}

/** Checks what createOp returned: an object with apply(), and close() if anything. */
export function checkCustomOp(path: string, op: unknown): CustomOp {
  if (op === null || typeof op !== 'object' || typeof (op as CustomOp).apply !== 'function') {
    throw invalid(path, 'createOp must return an object with an apply(item) method');
  }
  const close = (op as { close?: unknown }).close;
  if (close !== undefined && typeof close !== 'function') throw invalid(path, 'close, when given, must be a method');
  return op as CustomOp;
}

import { realpathSync, statSync } from 'node:fs';
import { judgePath, outsideMessage, resolveAllowedDirs } from '../../common/allowed-dirs.js';
import { GridlineError } from '../../common/errors.js';

/**
 * What a worker lets pipelines touch on its disk: the operator's allowed directories (sources,
 * sinks, model files, vocabularies) and the folders custom op modules load from. Checked where
 * files are opened, as a second line behind the coordinator's check at submit time.
 */
export interface FileAccess {
  /** Real paths. */
  readonly allowedDirs: readonly string[];
  /** Real paths; empty: custom op modules are refused. */
  readonly opModuleDirs: readonly string[];
  /** What relative paths are resolved against. */
  readonly cwd: string;
}

export interface FileAccessOptions {
  /** Default: the working directory only. */
  readonly allowedDirs?: readonly string[];
  /** Default: none. */
  readonly opModuleDirs?: readonly string[];
}

const realpath = realpathSync.native;

/** Resolves the configured folders once (each must exist); the result is frozen. */
export function resolveFileAccess(options: FileAccessOptions = {}, cwd = process.cwd()): FileAccess {
  const fs = { realpath, isDirectory: (p: string) => statSync(p).isDirectory() };
  const allowed = resolveAllowedDirs(options.allowedDirs ?? [cwd], cwd, fs);
  const modules = resolveAllowedDirs(options.opModuleDirs ?? [], cwd, fs);
  const problems = [...allowed.problems.map((p) => `--allow-dir ${p}`), ...modules.problems.map((p) => `--op-module-dir ${p}`)];
  if (problems.length > 0) throw new GridlineError('INVALID_ARGUMENT', `invalid worker configuration: ${problems.join('; ')}`);
  return Object.freeze({ allowedDirs: Object.freeze([...allowed.dirs]), opModuleDirs: Object.freeze([...modules.dirs]), cwd });
}

/**
 * The real path of `path` when it lies inside an allowed directory; PERMISSION_DENIED naming it
 * (and where a symlink led) otherwise. `what` says what the path is: `source folder`, `model`.
 */
export function allowedPath(path: string, access: FileAccess, what: string): string {
  const verdict = judgePath(path, access.allowedDirs, access.cwd, realpath);
  if (verdict.allowed) return verdict.real;
  throw new GridlineError('PERMISSION_DENIED', `${what} ${outsideMessage(path, verdict, access.allowedDirs, access.cwd, "worker's allowed directories")}; allow a directory with gridline worker --allow-dir (GRIDLINE_ALLOW_DIRS)`, {
    details: { path, real: verdict.real, allowedDirs: access.allowedDirs },
  });
}

/** The real path of a custom op module inside an op-module folder; PERMISSION_DENIED otherwise. */
export function allowedOpModulePath(path: string, access: FileAccess): string {
  if (access.opModuleDirs.length === 0) {
    throw new GridlineError('PERMISSION_DENIED', `op module ${path}: this worker loads no custom op modules; allow a folder with gridline worker --op-module-dir DIR (GRIDLINE_OP_MODULE_DIRS)`, {
      details: { path, opModuleDirs: [] },
    });
  }
  const verdict = judgePath(path, access.opModuleDirs, access.cwd, realpath);
  if (verdict.allowed) return verdict.real;
  throw new GridlineError('PERMISSION_DENIED', `op module ${outsideMessage(path, verdict, access.opModuleDirs, access.cwd, 'op module folders')}; allow a folder with gridline worker --op-module-dir (GRIDLINE_OP_MODULE_DIRS)`, {
    details: { path, real: verdict.real, opModuleDirs: access.opModuleDirs },
  });
}

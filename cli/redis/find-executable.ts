import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * Where `which name` would find an executable, looking through env.PATH; undefined if nowhere.
 * The env is a parameter so tests need not touch process.env. POSIX only: redis-server, its one
 * user, has no native Windows build.
 */
export async function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (name.includes('/')) return (await isExecutableFile(name)) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    // An empty or relative PATH entry means "the current directory": never run a binary from there.
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

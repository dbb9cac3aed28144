import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where `gridline up` and `gridline coordinator` keep the admin key they make on first start. */
export const DEFAULT_ADMIN_KEY_FILE = '.gridline/admin.key';

/**
 * The API key CLI commands present: GRIDLINE_API_KEY, else the file GRIDLINE_API_KEY_FILE names,
 * else the admin key file of a local cluster started in this directory. Not a flag: a key on the
 * command line would show in `ps` and shell history.
 */
export function resolveApiKey(env: NodeJS.ProcessEnv = process.env): string | null {
  const fromEnv = env.GRIDLINE_API_KEY?.trim();
  if (fromEnv) return fromEnv;
  const file = resolve(env.GRIDLINE_API_KEY_FILE ?? DEFAULT_ADMIN_KEY_FILE);
  if (!existsSync(file)) return null;
  const fromFile = readFileSync(file, 'utf8').trim();
  return fromFile === '' ? null : fromFile;
}

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { GridlineError } from '../common/errors.js';
import { writeSecretFile } from './secret-file.js';

/**
 * The secret that seals the coordinator's credentials in Redis (coordinator/auth/record-seal.ts):
 * GRIDLINE_COORDINATOR_SECRET, else the file, made on first start (mode 0600). It must stay out of
 * Redis and off worker machines; several coordinators of one cluster share it.
 */
export async function coordinatorSecret(file: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env.GRIDLINE_COORDINATOR_SECRET?.trim();
  if (fromEnv) return fromEnv;
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 32) throw new GridlineError('INVALID_ARGUMENT', `the coordinator secret in ${file} is shorter than 32 characters: delete the file to make a new one (API keys and join tokens made since must then be made again)`);
    return secret;
  }
  const secret = randomBytes(32).toString('hex');
  try {
    await writeSecretFile(file, `${secret}\n`, { exclusive: true });
  } catch (err) {
    // Another coordinator made it first: use that one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return coordinatorSecret(file, env);
    throw err;
  }
  return secret;
}

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes a file only its owner may read (0600) in a folder only its owner may enter (0700 when
 * made here): admin keys, the coordinator secret, TLS private keys. `exclusive` fails with EEXIST
 * rather than replace a file another process made first.
 */
export async function writeSecretFile(path: string, content: string, options: { exclusive?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, content, { mode: 0o600, flag: options.exclusive === true ? 'wx' : 'w' });
  // `mode` applies only when writeFile creates the file; an older one keeps its own.
  await chmod(path, 0o600);
}

import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AccessControl } from '../coordinator/auth/access-control.js';

export interface AdminKey {
  readonly key: string;
  readonly file: string;
  /** False: the file held a key that is still valid. */
  readonly created: boolean;
}

/**
 * The first admin key of a cluster, kept in a file only its owner can read (like kubeadm's
 * admin.conf): reused while it is valid, made afresh when missing or revoked. CLI commands run in
 * the same directory find it on their own (cli/api-key.ts).
 */
export async function ensureAdminKeyFile(access: AccessControl, file: string): Promise<AdminKey> {
  const existing = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (existing !== '') {
    try {
      access.verify(`Bearer ${existing}`, 'admin');
      return { key: existing, file, created: false };
    } catch {
      // Revoked or from another cluster: replace it.
    }
  }
  const { token } = await access.create('api-key', { name: 'bootstrap admin', scopes: ['admin'], ttlMs: null });
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // mode applies only when writeFile creates the file
  return { key: token, file, created: true };
}

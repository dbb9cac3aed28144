import { existsSync, readFileSync } from 'node:fs';
import type { AccessControl } from '../coordinator/auth/access-control.js';
import { writeSecretFile } from './secret-file.js';

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
  await writeSecretFile(file, `${token}\n`);
  return { key: token, file, created: true };
}

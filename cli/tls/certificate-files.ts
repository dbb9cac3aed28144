import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { GridlineError } from '../../common/errors.js';
import { createCertificateAuthority, issueCertificate, type PemPair } from './certificates.js';
import { writeSecretFile } from '../secret-file.js';

/** The certificates `gridline certs init` makes: one per kind of process. */
export const TLS_ROLES = ['coordinator', 'gateway', 'worker'] as const;
export type TlsRole = (typeof TLS_ROLES)[number];

export const DEFAULT_TLS_DIR = '.gridline/tls';
/** Every certificate answers to these, so each process can be dialled on its own machine. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** The file names of a certificate: NAME.pem and NAME-key.pem; the CA's are ca.pem and ca-key.pem. */
export function certificatePaths(dir: string, name: string): { readonly cert: string; readonly key: string } {
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
}

export interface WrittenCertificates {
  readonly dir: string;
  /** Every file written, in order. */
  readonly files: readonly string[];
  /** The names each new certificate answers to. */
  readonly hosts: readonly string[];
}

/**
 * `gridline certs init`: a new local CA and a certificate for each role, for localhost, this
 * machine's hostname and `extraHosts`. Refuses to replace an existing CA unless `force`:
 * certificates it signed would stop being trusted.
 */
export async function initCertificates(options: { readonly dir: string; readonly extraHosts: readonly string[]; readonly force: boolean }): Promise<WrittenCertificates> {
  const dir = resolve(options.dir);
  const ca = certificatePaths(dir, 'ca');
  if (!options.force && ((await exists(ca.cert)) || (await exists(ca.key)))) {
    throw new GridlineError('CONFLICT', `a CA already exists in ${dir}: sign more certificates with \`gridline certs issue NAME --host HOST --dir ${options.dir}\`, or pass --force to replace it (certificates it signed stop being trusted)`);
  }
  const hosts = [...new Set([...LOOPBACK_HOSTS, hostname(), ...options.extraHosts])];
  const authority = await createCertificateAuthority();
  // Sign every certificate before writing anything, so a bad --host leaves no half-made folder.
  const leaves = await Promise.all(TLS_ROLES.map(async (role) => [role, await issueCertificate(authority, { commonName: role, hosts })] as const));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = await writePair(dir, 'ca', authority);
  for (const [role, pair] of leaves) files.push(...(await writePair(dir, role, pair)));
  return { dir, files, hosts };
}

/**
 * `gridline certs issue NAME`: one more certificate from the CA in `dir` (say, for a worker on
 * another machine), for `hosts` and the loopback names. Refuses to replace NAME's files unless `force`.
 */
export async function issueCertificateFiles(options: { readonly dir: string; readonly name: string; readonly hosts: readonly string[]; readonly force: boolean }): Promise<WrittenCertificates> {
  const dir = resolve(options.dir);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.name) || options.name === 'ca') {
    throw new GridlineError('INVALID_ARGUMENT', `certificate name "${options.name}" must be letters, digits, . _ - (and not "ca")`);
  }
  if (options.hosts.length === 0) {
    throw new GridlineError('INVALID_ARGUMENT', 'name the hosts the certificate is for: --host NAME_OR_IP (repeatable)');
  }
  const caPaths = certificatePaths(dir, 'ca');
  const authority: PemPair = { cert: await readPem(caPaths.cert, dir), key: await readPem(caPaths.key, dir) };
  const target = certificatePaths(dir, options.name);
  if (!options.force && ((await exists(target.cert)) || (await exists(target.key)))) {
    throw new GridlineError('CONFLICT', `${target.cert} already exists: pass --force to replace it`);
  }
  const hosts = [...new Set([...LOOPBACK_HOSTS, ...options.hosts])];
  const pair = await issueCertificate(authority, { commonName: options.name, hosts });
  return { dir, files: await writePair(dir, options.name, pair), hosts };
}

/** Writes NAME.pem (0644) and NAME-key.pem (0600, also when it replaces an older file). */
async function writePair(dir: string, name: string, pair: PemPair): Promise<string[]> {
  const paths = certificatePaths(dir, name);
  await writeSecretFile(paths.key, pair.key);
  await writeFile(paths.cert, pair.cert, { mode: 0o644 });
  return [paths.cert, paths.key];
}

async function readPem(path: string, dir: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw new GridlineError('NOT_FOUND', `${path} ${reason}: make the CA first with \`gridline certs init --dir ${dir}\``, { cause: err });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

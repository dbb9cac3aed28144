import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GridlineError } from '../../common/errors.js';
import type { TlsClientMaterial, TlsMaterial } from '../../common/tls/tls-material.js';
import { certificatePaths, type TlsRole } from './certificate-files.js';

/** The TLS flags a command was given; the environment fills what they leave out. */
export interface TlsFlags {
  /** A folder made by `gridline certs init`: ca.pem, ROLE.pem, ROLE-key.pem (GRIDLINE_TLS_DIR). */
  readonly tlsDir?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** The CA that signs peers' certificates (GRIDLINE_TLS_CA for clients). */
  readonly tlsCa?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

/**
 * A server process's TLS material for `role`, or null when no TLS flag or GRIDLINE_TLS_DIR is
 * given. Explicit --tls-cert / --tls-key / --tls-ca win over the folder's files one by one. Each
 * file is read and checked here (PEM parses, key matches certificate, not expired), so a mistake
 * fails at start with the file's name rather than as a handshake error later.
 */
export async function loadServerTls(flags: TlsFlags, role: TlsRole, env: Env = process.env): Promise<TlsMaterial | null> {
  const dir = set(flags.tlsDir) ?? set(env.GRIDLINE_TLS_DIR);
  const fromDir = dir === undefined ? undefined : certificatePaths(dir, role);
  const certPath = set(flags.tlsCert) ?? fromDir?.cert;
  const keyPath = set(flags.tlsKey) ?? fromDir?.key;
  const caPath = set(flags.tlsCa) ?? (dir === undefined ? set(env.GRIDLINE_TLS_CA) : certificatePaths(dir, 'ca').cert);
  if (certPath === undefined && keyPath === undefined) {
    if (set(flags.tlsCa) !== undefined) throw new GridlineError('INVALID_ARGUMENT', '--tls-ca alone does not turn TLS on for a server: also pass --tls-cert and --tls-key, or --tls-dir DIR');
    return null;
  }
  if (certPath === undefined) throw new GridlineError('INVALID_ARGUMENT', '--tls-key needs --tls-cert (the certificate it belongs to), or use --tls-dir DIR');
  if (keyPath === undefined) throw new GridlineError('INVALID_ARGUMENT', '--tls-cert needs --tls-key (its private key), or use --tls-dir DIR');
  if (caPath === undefined) throw new GridlineError('INVALID_ARGUMENT', '--tls-cert needs --tls-ca: the CA whose certificates peers must present (mutual TLS)');
  const [cert, key, ca] = await Promise.all([readPem(certPath, 'certificate'), readPem(keyPath, 'private key'), readPem(caPath, 'CA certificate')]);
  const certificate = parseCertificate(cert, certPath);
  parseCertificate(ca, caPath);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new GridlineError('INVALID_ARGUMENT', `${keyPath} is not a PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new GridlineError('INVALID_ARGUMENT', `${keyPath} is not the private key of ${certPath}`);
  return Object.freeze({ cert, key, ca });
}

/**
 * The CA a client trusts for https:// and TLS gRPC servers, or null (the system's CAs then):
 * --tls-ca, else DIR/ca.pem of --tls-dir, else GRIDLINE_TLS_CA, else GRIDLINE_TLS_DIR's ca.pem.
 */
export async function loadClientTls(flags: Pick<TlsFlags, 'tlsDir' | 'tlsCa'>, env: Env = process.env): Promise<TlsClientMaterial | null> {
  const dir = set(flags.tlsDir);
  const envDir = set(env.GRIDLINE_TLS_DIR);
  const caPath = set(flags.tlsCa)
    ?? (dir === undefined ? undefined : certificatePaths(dir, 'ca').cert)
    ?? set(env.GRIDLINE_TLS_CA)
    ?? (envDir === undefined ? undefined : certificatePaths(envDir, 'ca').cert);
  if (caPath === undefined) return null;
  const ca = await readPem(caPath, 'CA certificate');
  parseCertificate(ca, caPath);
  return Object.freeze({ ca });
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : `cannot be read (${(err as Error).message})`;
    throw new GridlineError('INVALID_ARGUMENT', `TLS ${what} ${path} ${reason} (make certificates with \`gridline certs init\`)`, { cause: err });
  }
}

function parseCertificate(pem: Buffer, path: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new GridlineError('INVALID_ARGUMENT', `${path} is not a PEM certificate: ${(err as Error).message}`, { cause: err });
  }
  if (new Date(cert.validTo).getTime() < Date.now()) {
    throw new GridlineError('INVALID_ARGUMENT', `${path} expired on ${new Date(cert.validTo).toISOString()}: issue a new one with \`gridline certs issue\` (or \`gridline certs init --force\`)`);
  }
  return cert;
}

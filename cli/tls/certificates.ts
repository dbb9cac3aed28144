import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { GridlineError } from '../../common/errors.js';

// The one file that makes certificates (@peculiar/x509 over Node's WebCrypto): ECDSA P-256 keys,
// SHA-256 signatures, PEM out. Nothing here touches the file system.

/** A certificate and its private key (PKCS#8), both PEM. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Issued a little in the past, so a peer whose clock is behind does not see "not yet valid". */
const BACKDATE_MS = 60 * 60 * 1000;
export const CA_VALID_DAYS = 3650;
export const LEAF_VALID_DAYS = 825;

// Node's WebCrypto; the casts below bridge its key types and the DOM names @peculiar/x509 declares.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Subject alternative names split by kind; every entry checked. */
export interface SubjectNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * Sorts hosts into IP addresses and DNS names (a leading `*.` wildcard allowed), dropping
 * duplicates; IPv6 may come bracketed. Throws INVALID_ARGUMENT naming every bad one.
 */
export function subjectNames(hosts: readonly string[]): SubjectNames {
  const dns = new Set<string>();
  const ips = new Set<string>();
  const bad: string[] = [];
  for (const raw of hosts) {
    const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) {
      ips.add(host.toLowerCase());
      continue;
    }
    const name = host.toLowerCase().replace(/\.$/, '');
    const labels = name.startsWith('*.') ? name.slice(2).split('.') : name.split('.');
    if (name.length > 253 || labels.some((l) => !DNS_LABEL.test(l))) bad.push(raw);
    else dns.add(name);
  }
  if (bad.length > 0) {
    throw new GridlineError('INVALID_ARGUMENT', `not a DNS name or IP address: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  }
  return { dns: [...dns], ips: [...ips] };
}

/** A new local certificate authority: self-signed, may sign leaf certificates only. */
export async function createCertificateAuthority(options: { readonly commonName?: string; readonly now?: Date; readonly validDays?: number } = {}): Promise<PemPair> {
  const keys = await generateKeys();
  const now = options.now ?? new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: distinguishedName(options.commonName ?? 'gridline local CA'),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (options.validDays ?? CA_VALID_DAYS) * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await pemOfPrivateKey(keys.privateKey) };
}

export interface LeafOptions {
  /** The role or machine the certificate is for: its subject CN. */
  readonly commonName: string;
  /** DNS names and IP addresses clients dial it by. */
  readonly hosts: readonly string[];
  readonly now?: Date;
  readonly validDays?: number;
}

/**
 * A certificate signed by `ca` for both TLS server and client authentication, so one file is a
 * process's server certificate and its mutual-TLS client certificate alike.
 */
export async function issueCertificate(ca: PemPair, options: LeafOptions): Promise<PemPair> {
  const names = subjectNames(options.hosts);
  if (names.dns.length + names.ips.length === 0) throw new GridlineError('INVALID_ARGUMENT', 'a certificate needs at least one host name or IP address');
  const caCert = readCertificate(ca.cert, 'the CA certificate');
  const caKey = await importPrivateKey(ca.key);
  const keys = await generateKeys();
  const now = options.now ?? new Date();
  const notAfter = new Date(now.getTime() + (options.validDays ?? LEAF_VALID_DAYS) * DAY_MS);
  if (notAfter > caCert.notAfter) {
    throw new GridlineError('INVALID_ARGUMENT', `the CA expires ${caCert.notAfter.toISOString()}, before the certificate would: make a new CA with \`gridline certs init --force\``);
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: distinguishedName(options.commonName),
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: cert.toString('pem'), key: await pemOfPrivateKey(keys.privateKey) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** A positive 128-bit serial (the top bit cleared, so the DER integer is not negative). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** CN=…, escaped the way RFC 4514 wants, so a host name with a comma cannot add attributes. */
function distinguishedName(commonName: string): string {
  return `CN=${commonName.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)}`;
}

function readCertificate(pem: string, what: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (err) {
    throw new GridlineError('INVALID_ARGUMENT', `${what} is not a PEM certificate: ${(err as Error).message}`, { cause: err });
  }
}

/** The CA key as WebCrypto wants it; PKCS#8 or SEC1 ("EC PRIVATE KEY") PEM are both taken. */
async function importPrivateKey(pem: string): Promise<CryptoKey> {
  let der: Buffer;
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error(`a ${key.asymmetricKeyType ?? 'unknown'} key, not ECDSA P-256`);
    }
    der = key.export({ type: 'pkcs8', format: 'der' });
  } catch (err) {
    throw new GridlineError('INVALID_ARGUMENT', `the CA key cannot be used: ${(err as Error).message}`, { cause: err });
  }
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
}

async function pemOfPrivateKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate, subjectNames, type PemPair } from './certificates.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** One mutual-TLS handshake over loopback: whether the client got in, and what either side said. */
async function handshake(server: PemPair, client: PemPair, serverCa: string, clientCa: string): Promise<{ ok: boolean; error?: string }> {
  const srv = createServer({ cert: server.cert, key: server.key, ca: serverCa, requestCert: true, rejectUnauthorized: true }, (socket) => socket.end('hi'));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise((resolve) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: 'localhost', ca: clientCa, cert: client.cert, key: client.key });
      let data = '';
      socket.on('data', (d: Buffer) => {
        data += d.toString();
      });
      socket.on('end', () => resolve(data === 'hi' ? { ok: true } : { ok: false, error: 'no greeting' }));
      socket.on('error', (err) => resolve({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
  } finally {
    srv.close();
  }
}

describe('certificates', () => {
  let ca: PemPair;
  let leaf: PemPair;
  let other: PemPair;

  beforeAll(async () => {
    ca = await createCertificateAuthority();
    leaf = await issueCertificate(ca, { commonName: 'coordinator', hosts: ['localhost', '127.0.0.1', '::1', 'gpu1.example.com', '[fe80::1]'] });
    other = await createCertificateAuthority({ commonName: 'someone else' });
  });

  it('makes a CA that may sign certificates and nothing else', () => {
    const cert = new X509Certificate(ca.cert);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=gridline local CA');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(createPrivateKey(ca.key).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 86_400_000);
  });

  it('issues a leaf that chains to the CA and names every host', () => {
    const cert = new X509Certificate(leaf.cert);
    const authority = new X509Certificate(ca.cert);
    expect(cert.verify(authority.publicKey)).toBe(true);
    expect(cert.checkIssued(authority)).toBe(true);
    expect(cert.verify(new X509Certificate(other.cert).publicKey)).toBe(false);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('CN=coordinator');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkHost('gpu1.example.com')).toBe('gpu1.example.com');
    expect(cert.checkHost('other.example.com')).toBeUndefined();
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkIP('fe80::1')).toBe('fe80::1');
    expect(cert.checkIP('10.0.0.1')).toBeUndefined();
    expect(cert.checkPrivateKey(createPrivateKey(leaf.key))).toBe(true);
  });

  it('gives every certificate both server and client authentication, so it doubles as the mTLS client certificate', () => {
    expect(new X509Certificate(leaf.cert).keyUsage).toEqual(expect.arrayContaining([SERVER_AUTH, CLIENT_AUTH]));
  });

  it('completes a mutual TLS handshake between two certificates of one CA, and refuses one from another CA', async () => {
    const client = await issueCertificate(ca, { commonName: 'worker', hosts: ['localhost'] });
    expect(await handshake(leaf, client, ca.cert, ca.cert)).toEqual({ ok: true });

    const stranger = await issueCertificate(other, { commonName: 'worker', hosts: ['localhost'] });
    expect((await handshake(leaf, stranger, ca.cert, ca.cert)).ok).toBe(false);
    // Nor does a client that trusts another CA accept this server.
    expect(await handshake(leaf, stranger, other.cert, other.cert)).toMatchObject({ ok: false, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('sorts hosts into DNS names and IP addresses and refuses anything else', () => {
    expect(subjectNames(['LocalHost', '127.0.0.1', '[::1]', '*.example.com', 'localhost', 'node-1.lan.'])).toEqual({
      dns: ['localhost', '*.example.com', 'node-1.lan'],
      ips: ['127.0.0.1', '::1'],
    });
    expect(() => subjectNames(['ok.example', 'bad host', '-lead.example', 'a..b'])).toThrow(/"bad host", "-lead.example", "a..b"/);
  });

  it('will not issue a certificate that outlives its CA, or one with no host', async () => {
    const shortCa = await createCertificateAuthority({ validDays: 10 });
    await expect(issueCertificate(shortCa, { commonName: 'x', hosts: ['localhost'] })).rejects.toThrow(/make a new CA/);
    await expect(issueCertificate(ca, { commonName: 'x', hosts: [] })).rejects.toThrow(/at least one host/);
  });

  it('signs with a CA key written as SEC1 ("EC PRIVATE KEY") too', async () => {
    const sec1 = createPrivateKey(ca.key).export({ type: 'sec1', format: 'pem' }).toString();
    const cert = await issueCertificate({ cert: ca.cert, key: sec1 }, { commonName: 'x', hosts: ['localhost'] });
    expect(new X509Certificate(cert.cert).checkIssued(new X509Certificate(ca.cert))).toBe(true);
  });
});

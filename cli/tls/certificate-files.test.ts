import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initCertificates, issueCertificateFiles, TLS_ROLES } from './certificate-files.js';

describe('certificate files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'gl-certs-')), 'tls');
  });
  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  const mode = async (file: string): Promise<number> => (await stat(join(dir, file))).mode & 0o777;
  const cert = async (name: string): Promise<X509Certificate> => new X509Certificate(await readFile(join(dir, `${name}.pem`)));

  it('init writes a CA and one certificate per role, keys readable by the owner only', async () => {
    const written = await initCertificates({ dir, extraHosts: ['gpu1.lan', '10.1.2.3'], force: false });
    expect(written.files.map((f) => f.slice(dir.length + 1))).toEqual(['ca.pem', 'ca-key.pem', ...TLS_ROLES.flatMap((r) => [`${r}.pem`, `${r}-key.pem`])]);
    expect(await mode('.')).toBe(0o700);
    for (const name of ['ca', ...TLS_ROLES]) {
      expect(await mode(`${name}-key.pem`), name).toBe(0o600);
      expect(await mode(`${name}.pem`), name).toBe(0o644);
    }
    const ca = await cert('ca');
    for (const role of TLS_ROLES) {
      const c = await cert(role);
      expect(c.checkIssued(ca) && c.verify(ca.publicKey), role).toBe(true);
      expect(c.subject).toBe(`CN=${role}`);
      expect(c.checkHost('localhost')).toBe('localhost');
      expect(c.checkHost(hostname())).toBeDefined();
      expect(c.checkHost('gpu1.lan')).toBe('gpu1.lan');
      expect(c.checkIP('10.1.2.3')).toBe('10.1.2.3');
      expect(c.checkIP('::1')).toBe('::1');
    }
  });

  it('init refuses to replace a CA unless forced', async () => {
    await initCertificates({ dir, extraHosts: [], force: false });
    const before = await readFile(join(dir, 'ca.pem'), 'utf8');
    await expect(initCertificates({ dir, extraHosts: [], force: false })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/already exists.*--force/) });
    expect(await readFile(join(dir, 'ca.pem'), 'utf8')).toBe(before);
    await initCertificates({ dir, extraHosts: [], force: true });
    expect(await readFile(join(dir, 'ca.pem'), 'utf8')).not.toBe(before);
    expect(await mode('ca-key.pem')).toBe(0o600);
  });

  it('init checks every --host before writing anything', async () => {
    await expect(initCertificates({ dir, extraHosts: ['not a host'], force: false })).rejects.toThrow(/"not a host"/);
    await expect(stat(dir)).rejects.toThrow();
  });

  it('issue signs one more certificate with the CA in the folder', async () => {
    await initCertificates({ dir, extraHosts: [], force: false });
    const written = await issueCertificateFiles({ dir, name: 'worker-gpu1', hosts: ['gpu1.lan'], force: false });
    expect(written.hosts).toEqual(['localhost', '127.0.0.1', '::1', 'gpu1.lan']);
    const c = await cert('worker-gpu1');
    expect(c.checkIssued(await cert('ca'))).toBe(true);
    expect(c.checkHost('gpu1.lan')).toBe('gpu1.lan');
    expect(await mode('worker-gpu1-key.pem')).toBe(0o600);
    await expect(issueCertificateFiles({ dir, name: 'worker-gpu1', hosts: ['gpu1.lan'], force: false })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('issue refuses a bad name, no host, or a folder without a CA', async () => {
    await expect(issueCertificateFiles({ dir, name: 'ca', hosts: ['x'], force: true })).rejects.toThrow(/not "ca"/);
    await expect(issueCertificateFiles({ dir, name: '../x', hosts: ['x'], force: false })).rejects.toThrow(/must be letters/);
    await expect(issueCertificateFiles({ dir, name: 'w', hosts: [], force: false })).rejects.toThrow(/--host/);
    await expect(issueCertificateFiles({ dir, name: 'w', hosts: ['x'], force: false })).rejects.toThrow(/ca\.pem does not exist: make the CA first with `gridline certs init/);
  });
});

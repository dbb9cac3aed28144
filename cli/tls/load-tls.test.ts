import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCertificates } from './certificate-files.js';
import { loadClientTls, loadServerTls } from './load-tls.js';

describe('loading TLS material', () => {
  let root: string;
  let dir: string;
  let otherDir: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gl-load-tls-'));
    dir = join(root, 'tls');
    otherDir = join(root, 'other');
    await initCertificates({ dir, extraHosts: [], force: false });
    await initCertificates({ dir: otherDir, extraHosts: [], force: false });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is off (null) when no flag or environment variable names any', async () => {
    expect(await loadServerTls({}, 'coordinator', {})).toBeNull();
    expect(await loadClientTls({}, {})).toBeNull();
  });

  it('reads ca.pem, ROLE.pem and ROLE-key.pem from --tls-dir (or GRIDLINE_TLS_DIR) into a frozen object', async () => {
    const tls = await loadServerTls({ tlsDir: dir }, 'worker', {});
    expect(tls).not.toBeNull();
    expect(Object.isFrozen(tls)).toBe(true);
    expect(tls!.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(tls!.key.toString()).toContain('BEGIN PRIVATE KEY');
    const fromEnv = await loadServerTls({}, 'worker', { GRIDLINE_TLS_DIR: dir });
    expect(fromEnv!.cert.equals(tls!.cert)).toBe(true);
  });

  it('lets explicit files win over the folder\'s, one by one', async () => {
    const tls = await loadServerTls({ tlsDir: dir, tlsCert: join(dir, 'gateway.pem'), tlsKey: join(dir, 'gateway-key.pem') }, 'worker', {});
    const gateway = await loadServerTls({ tlsDir: dir }, 'gateway', {});
    expect(tls!.cert.equals(gateway!.cert)).toBe(true);
    const explicit = await loadServerTls({ tlsCert: join(dir, 'worker.pem'), tlsKey: join(dir, 'worker-key.pem'), tlsCa: join(dir, 'ca.pem') }, 'coordinator', {});
    expect(explicit).not.toBeNull();
  });

  it('names the missing or unreadable file', async () => {
    await expect(loadServerTls({ tlsDir: join(root, 'nowhere') }, 'coordinator', {})).rejects.toThrow(`TLS certificate ${join(root, 'nowhere', 'coordinator.pem')} does not exist`);
    const locked = join(root, 'locked-key.pem');
    await copyFile(join(dir, 'worker-key.pem'), locked);
    await chmod(locked, 0o000);
    // root reads anything: only check where permissions apply.
    if (process.getuid?.() !== 0) {
      await expect(loadServerTls({ tlsDir: dir, tlsKey: locked }, 'worker', {})).rejects.toThrow(`${locked} is not readable`);
    }
  });

  it('refuses half a configuration, a key of another certificate, and a file that is not PEM', async () => {
    await expect(loadServerTls({ tlsCert: join(dir, 'worker.pem') }, 'worker', {})).rejects.toThrow(/--tls-cert needs --tls-key/);
    await expect(loadServerTls({ tlsKey: join(dir, 'worker-key.pem') }, 'worker', {})).rejects.toThrow(/--tls-key needs --tls-cert/);
    await expect(loadServerTls({ tlsCert: join(dir, 'worker.pem'), tlsKey: join(dir, 'worker-key.pem') }, 'worker', {})).rejects.toThrow(/needs --tls-ca/);
    await expect(loadServerTls({ tlsCa: join(dir, 'ca.pem') }, 'worker', {})).rejects.toThrow(/--tls-ca alone/);
    await expect(loadServerTls({ tlsDir: dir, tlsKey: join(otherDir, 'worker-key.pem') }, 'worker', {})).rejects.toThrow(/is not the private key of/);
    await expect(loadServerTls({ tlsDir: dir, tlsCert: join(dir, 'worker-key.pem') }, 'worker', {})).rejects.toThrow(/worker-key\.pem is not a PEM certificate/);
  });

  it('finds a client\'s CA in --tls-ca, --tls-dir, GRIDLINE_TLS_CA, then GRIDLINE_TLS_DIR', async () => {
    const ca = (await loadClientTls({ tlsDir: dir }, {}))!.ca;
    const otherCa = (await loadClientTls({ tlsDir: otherDir }, {}))!.ca;
    expect(ca.equals(otherCa)).toBe(false);
    expect((await loadClientTls({ tlsCa: join(dir, 'ca.pem'), tlsDir: otherDir }, {}))!.ca.equals(ca)).toBe(true);
    expect((await loadClientTls({ tlsDir: dir }, { GRIDLINE_TLS_CA: join(otherDir, 'ca.pem') }))!.ca.equals(ca)).toBe(true);
    expect((await loadClientTls({}, { GRIDLINE_TLS_CA: join(dir, 'ca.pem'), GRIDLINE_TLS_DIR: otherDir }))!.ca.equals(ca)).toBe(true);
    expect((await loadClientTls({}, { GRIDLINE_TLS_DIR: otherDir }))!.ca.equals(otherCa)).toBe(true);
    await expect(loadClientTls({ tlsCa: join(root, 'missing.pem') }, {})).rejects.toThrow('TLS CA certificate');
  });
});

import { describe, expect, it } from 'vitest';
import { checkPlaintextListen, isLoopbackHost } from './listen-policy.js';

describe('plaintext listen policy', () => {
  it('knows loopback addresses', () => {
    for (const host of ['localhost', 'LOCALHOST', 'api.localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '[::]', '', '10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', 'fe80::1', 'example.com', 'localhost.example.com', '128.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  const listen = { what: 'worker model server', host: '0.0.0.0', hostFlag: '--inference-host' };

  it('refuses plaintext on a non-loopback address, saying how to fix it', () => {
    expect(() => checkPlaintextListen(listen, { tls: false, insecure: false })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/worker model server without TLS on 0\.0\.0\.0 \(--inference-host\).*gridline certs init.*--tls-dir.*--insecure/) }),
    );
  });

  it('lets TLS, loopback, or --insecure (with a warning) through', () => {
    expect(checkPlaintextListen(listen, { tls: true, insecure: false })).toBeNull();
    expect(checkPlaintextListen({ ...listen, host: '127.0.0.1' }, { tls: false, insecure: false })).toBeNull();
    expect(checkPlaintextListen(listen, { tls: false, insecure: true })).toMatch(/--insecure: the worker model server serves plaintext on 0\.0\.0\.0/);
  });
});

import { createServer } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { applyHttpServerLimits, HTTP_SERVER_LIMITS } from './http-server-limits.js';

describe('applyHttpServerLimits', () => {
  it('sets the policy on the server', () => {
    const server = applyHttpServerLimits(createServer());
    expect(server.headersTimeout).toBe(HTTP_SERVER_LIMITS.headersTimeoutMs);
    expect(server.requestTimeout).toBe(HTTP_SERVER_LIMITS.requestTimeoutMs);
    expect(server.keepAliveTimeout).toBe(HTTP_SERVER_LIMITS.keepAliveTimeoutMs);
    expect(server.maxHeadersCount).toBe(HTTP_SERVER_LIMITS.maxHeadersCount);
  });

  it('closes a client that sends its headers a byte at a time, and serves others meanwhile', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    applyHttpServerLimits(server, { headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 50 });
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET / HTTP/1.1\r\n');
        const drip = setInterval(() => socket.write('X'), 20);
        socket.once('close', () => clearInterval(drip));
      });
      let text = '';
      socket.on('data', (d: Buffer) => { text += d.toString(); });
      socket.on('close', () => resolve(text));
      socket.on('error', () => {});
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});

import { createServer } from 'node:http';
import { connect } from 'node:net';
import { applyHttpServerLimits } from './common/http-server-limits.js';
const server = createServer((req, res) => { res.end('ok'); });
server.listen(0, '127.0.0.1');
applyHttpServerLimits(server, { headersTimeoutMs: 1000, requestTimeoutMs: 2000, checkIntervalMs: 200 });
await new Promise((r) => server.once('listening', r));
const port = (server.address() as any).port;
const t0 = Date.now();
function sock(name: string, send: (s: ReturnType<typeof connect>) => void) {
  const s = connect(port, '127.0.0.1', () => send(s));
  s.on('data', (d) => console.log(name, 'data', JSON.stringify(d.toString().slice(0, 60))));
  s.on('close', () => console.log(name, 'closed after', Date.now() - t0, 'ms'));
  s.on('error', () => {});
}
sock('silent', () => {});
sock('slow headers', (s) => { s.write('GET / HTTP/1.1\r\nHost: x\r\n'); const i = setInterval(() => { if (!s.destroyed) s.write('X'); else clearInterval(i); }, 100); });
sock('slow body', (s) => { s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n'); const i = setInterval(() => { if (!s.destroyed) s.write('X'); else clearInterval(i); }, 100); });
setTimeout(() => { server.close(); process.exit(0); }, 4000);

import { createServer } from 'node:net';
import { GridlineError } from './errors.js';

/**
 * A TCP port that was free a moment ago on `host`: the OS picks it (listen on 0), then we release it.
 * Another process can take it before the caller binds, so callers that spawn a server should be
 * ready to retry with a new port.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => {
      const reason = err instanceof Error ? err.message : String(err);
      reject(new GridlineError('UNAVAILABLE', `could not get a free TCP port on ${host}: ${reason}`, { cause: err }));
    };
    const server = createServer();
    server.unref();
    server.once('error', fail);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close((err) => {
        if (err) fail(err);
        else if (address === null || typeof address === 'string') fail(new Error('the OS gave no port'));
        else resolve(address.port);
      });
    });
  });
}

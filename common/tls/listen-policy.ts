import { isIP } from 'node:net';
import { GridlineError } from '../errors.js';

/**
 * Whether `host` names only this machine: `localhost`, 127.0.0.0/8, ::1 (bracketed or not), or
 * an IPv4-mapped 127.x address. Wildcards (0.0.0.0, ::) and every other name are not: a name
 * other than localhost may resolve to anything.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) !== 6) return false;
  // The URL parser writes an IPv6 address in its one canonical form (::1, ::ffff:7f00:1).
  const canonical = new URL(`http://[${h}]/`).hostname.slice(1, -1);
  return canonical === '::1' || canonical.startsWith('::ffff:7f');
}

export interface PlaintextListen {
  /** What listens, for the message: 'coordinator HTTP API', 'worker model server', ... */
  readonly what: string;
  readonly host: string;
  /** The flag that sets the address, for the message (`--host`, `--inference-host`). */
  readonly hostFlag: string;
}

/**
 * Nothing opens in plaintext on a network by accident: a listener on a non-loopback address
 * without TLS is refused, with how to fix it, unless the operator said --insecure. Returns the
 * warning to log when --insecure let one through, else null.
 */
export function checkPlaintextListen(listen: PlaintextListen, options: { readonly tls: boolean; readonly insecure: boolean }): string | null {
  if (options.tls || isLoopbackHost(listen.host)) return null;
  if (options.insecure) {
    return `--insecure: the ${listen.what} serves plaintext on ${listen.host}, a non-loopback address: anyone on that network can read and forge its traffic`;
  }
  throw new GridlineError('INVALID_ARGUMENT',
    `refusing to serve the ${listen.what} without TLS on ${listen.host} (${listen.hostFlag}), which is not a loopback address: ` +
    'make certificates with `gridline certs init` and pass --tls-dir DIR (or GRIDLINE_TLS_DIR), ' +
    `listen on 127.0.0.1, or pass --insecure to serve plaintext on a network you trust`);
}

import { resolve } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { checkPlaintextListen, type PlaintextListen } from '../../common/tls/listen-policy.js';
import type { TlsMaterial } from '../../common/tls/tls-material.js';
import type { TlsRole } from './certificate-files.js';
import { loadServerTls, type TlsFlags } from './load-tls.js';

export interface ServerTlsFlags extends TlsFlags {
  readonly insecure?: boolean;
}

/**
 * A server command's TLS material for `role` (null: none given), after checking that nothing it
 * is about to open listens in plaintext on a non-loopback address: that refuses to start unless
 * --insecure, which logs a warning per listener instead.
 */
export async function serverTls(flags: ServerTlsFlags, role: TlsRole, listens: readonly PlaintextListen[], logger: Logger): Promise<TlsMaterial | null> {
  const tls = await loadServerTls(flags, role);
  for (const listen of listens) {
    const warning = checkPlaintextListen(listen, { tls: tls !== null, insecure: flags.insecure === true });
    if (warning !== null) logger.warn(warning);
  }
  if (tls !== null) logger.info({ role }, 'TLS on: serving with this role\'s certificate, trusting peers whose certificates come from the CA');
  return tls;
}

/** The TLS flags a command was given, as arguments for a child `gridline` process (paths made absolute). */
export function tlsFlagArgs(flags: ServerTlsFlags): string[] {
  const args: string[] = [];
  for (const [flag, value] of [['--tls-dir', flags.tlsDir], ['--tls-cert', flags.tlsCert], ['--tls-key', flags.tlsKey], ['--tls-ca', flags.tlsCa]] as const) {
    if (value !== undefined && value !== '') args.push(flag, resolve(value));
  }
  return args;
}

/**
 * A server process's TLS identity, as PEM: its certificate (chain), its private key, and the CA
 * whose certificates it trusts from peers (mutual TLS). Read from files at the CLI boundary only;
 * components get it in their options and never touch the file system for it.
 */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

/**
 * What a client needs: the CA that signed the server's certificate and, to reach a server that
 * demands one (mutual TLS), a certificate and key of its own. A TlsMaterial is one.
 */
export interface TlsClientMaterial {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

import { Option } from 'commander';
import { DEFAULT_TLS_DIR } from './certificate-files.js';

// The TLS flags of the CLI, defined once so every command names and explains them alike. They are
// read into TlsMaterial by load-tls.ts; environment variables are applied there, not here.

/** --tls-dir, --tls-cert, --tls-key, --tls-ca and --insecure, for commands that run servers. */
export function serverTlsOptions(): Option[] {
  return [
    new Option('--tls-dir <dir>', `TLS: a folder made by \`gridline certs init\` (e.g. ${DEFAULT_TLS_DIR}): ca.pem, ROLE.pem, ROLE-key.pem (GRIDLINE_TLS_DIR)`),
    new Option('--tls-cert <file>', 'TLS: this process\'s certificate (PEM), instead of the folder\'s'),
    new Option('--tls-key <file>', 'TLS: its private key (PEM)'),
    new Option('--tls-ca <file>', 'TLS: the CA peers\' certificates must come from (mutual TLS)'),
    new Option('--insecure', 'allow plaintext listeners on non-loopback addresses (a trusted network only)'),
  ];
}

/** --tls-ca and --tls-dir, for commands that call a coordinator or gateway over https://. */
export function clientTlsOptions(): Option[] {
  return [
    new Option('--tls-ca <file>', 'trust this CA for https:// (GRIDLINE_TLS_CA; default: ca.pem of --tls-dir / GRIDLINE_TLS_DIR)'),
    new Option('--tls-dir <dir>', 'a folder made by `gridline certs init`: its ca.pem is trusted'),
  ];
}

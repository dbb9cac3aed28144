import { relative } from 'node:path';
import { initCertificates, issueCertificateFiles, type WrittenCertificates } from '../tls/certificate-files.js';

export interface CertsInitOptions {
  readonly dir: string;
  readonly host: readonly string[];
  readonly force?: boolean;
}

/** `gridline certs init`: a local CA and a certificate per role; prints what it wrote and how to use it. */
export async function certsInitCommand(options: CertsInitOptions): Promise<void> {
  const written = await initCertificates({ dir: options.dir, extraHosts: options.host, force: options.force === true });
  report(written);
  const dir = shown(written.dir);
  process.stdout.write([
    '',
    'Use them:',
    `  gridline coordinator --tls-dir ${dir} ...      (HTTPS API; workers must show a certificate from this CA)`,
    `  gridline worker --tls-dir ${dir} --coordinator HOST:7071 ...`,
    `  gridline gateway --tls-dir ${dir} --coordinator-url https://HOST:7070`,
    `  gridline nodes --tls-dir ${dir} --coordinator-url https://HOST:7070   (or GRIDLINE_TLS_CA=${dir}/ca.pem)`,
    'A worker on another machine: `gridline certs issue NAME --host ITS_NAME_OR_IP`, then copy ca.pem, NAME.pem and NAME-key.pem',
    'there and pass --tls-cert NAME.pem --tls-key NAME-key.pem --tls-ca ca.pem. Keep ca-key.pem on this machine.',
    '',
  ].join('\n'));
}

export interface CertsIssueOptions {
  readonly dir: string;
  readonly host: readonly string[];
  readonly force?: boolean;
}

/** `gridline certs issue NAME`: one more certificate from the CA in --dir. */
export async function certsIssueCommand(name: string, options: CertsIssueOptions): Promise<void> {
  report(await issueCertificateFiles({ dir: options.dir, name, hosts: options.host, force: options.force === true }));
}

function report(written: WrittenCertificates): void {
  process.stdout.write(`wrote ${written.files.map(shown).join(', ')}\nfor hosts: ${written.hosts.join(', ')}\n`);
}

/** A path relative to the working directory when it lies below it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}

/** Error codes Node gives when a server's certificate cannot be verified against the trusted CAs. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED',
]);

/**
 * What to do about a failed request, when the cause points at TLS: an https:// server whose
 * certificate is not trusted (give the CLI the CA), or an http:// URL to a server that speaks
 * TLS (the connection is dropped at once). Null when the cause says nothing about TLS.
 */
export function transportHint(url: string, cause: string): string | null {
  if (UNTRUSTED.has(cause)) {
    return cause === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? ': the server\'s certificate is not for this host name (issue one with `gridline certs issue NAME --host HOST`)'
      : ': the server\'s certificate is not trusted: pass --tls-ca FILE (or --tls-dir DIR, or set GRIDLINE_TLS_CA) with the CA that signed it';
  }
  if (url.startsWith('http://') && (cause === 'UND_ERR_SOCKET' || cause === 'ECONNRESET')) {
    return ': the connection was dropped; if the server serves TLS, use an https:// URL';
  }
  return null;
}

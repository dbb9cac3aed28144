import * as grpc from '@grpc/grpc-js';
import type { TlsClientMaterial, TlsMaterial } from './tls-material.js';

/**
 * Credentials for a gRPC server: plaintext without TLS material; otherwise TLS with this
 * process's certificate, and with `requireClientCert` a client must present a certificate signed
 * by the CA (mutual TLS: how workers prove themselves to the coordinator, and gateways to workers).
 */
export function grpcServerCredentials(tls: TlsMaterial | null, options: { readonly requireClientCert: boolean }): grpc.ServerCredentials {
  if (tls === null) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    options.requireClientCert ? tls.ca : null,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    options.requireClientCert,
  );
}

/**
 * Credentials for a gRPC channel: plaintext without TLS material; otherwise the server must show
 * a certificate from the CA for the address dialled, and the client shows its own when it has one.
 */
export function grpcChannelCredentials(tls: TlsClientMaterial | null): grpc.ChannelCredentials {
  if (tls === null) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
}

import { Agent } from 'undici';
import type { TlsClientMaterial } from './tls-material.js';

/**
 * `fetch` that trusts the CA of the TLS material (and shows its client certificate when it has
 * one) for https:// URLs; plain `fetch` without TLS material. Node 20's fetch takes an undici
 * dispatcher for that, the only way to give it a CA other than the system's. Idle connections do
 * not keep the process alive.
 */
export function tlsFetch(tls: TlsClientMaterial | null): typeof fetch {
  if (tls === null) return (input, init) => fetch(input, init);
  const dispatcher = new Agent({
    connect: {
      ca: tls.ca,
      ...(tls.cert !== undefined && tls.key !== undefined ? { cert: tls.cert, key: tls.key } : {}),
    },
  });
  // RequestInit's types do not name `dispatcher` the way undici's Agent is typed.
  return (input, init) => fetch(input, { ...init, dispatcher } as RequestInit);
}

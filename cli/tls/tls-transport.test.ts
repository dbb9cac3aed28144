import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { grpcChannelCredentials, grpcServerCredentials } from '../../common/tls/grpc-credentials.js';
import { tlsFetch } from '../../common/tls/tls-fetch.js';
import type { TlsClientMaterial, TlsMaterial } from '../../common/tls/tls-material.js';
import { createWebServer, type WebServer } from '../../common/tls/web-server.js';
import { startMetricsServer } from '../../worker-node/metrics/metrics-server.js';
import { createCertificateAuthority, issueCertificate } from './certificates.js';

// The shared builders of common/tls/, with certificates from this folder's CA: what the
// coordinator, workers and gateway are wired with.

const echo: grpc.ServiceDefinition = {
  Echo: {
    path: '/test.Echo/Echo', requestStream: false, responseStream: false,
    requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
  },
};
const EchoClient = grpc.makeGenericClientConstructor(echo, 'Echo');

async function material(ca: { cert: string; key: string }, name: string): Promise<TlsMaterial> {
  const leaf = await issueCertificate(ca, { commonName: name, hosts: ['localhost', '127.0.0.1'] });
  return Object.freeze({ cert: Buffer.from(leaf.cert), key: Buffer.from(leaf.key), ca: Buffer.from(ca.cert) });
}

describe('TLS transport builders', () => {
  let server: TlsMaterial;
  let client: TlsMaterial;
  let stranger: TlsMaterial;
  beforeAll(async () => {
    const ca = await createCertificateAuthority();
    server = await material(ca, 'coordinator');
    client = await material(ca, 'worker');
    stranger = await material(await createCertificateAuthority(), 'worker');
  });

  describe('HTTPS and fetch', () => {
    let web: WebServer;
    let url: string;
    beforeAll(async () => {
      web = createWebServer(server, (_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(web.address() as AddressInfo).port}/`;
    });
    afterAll(() => {
      web.closeAllConnections();
      web.close();
    });

    it('serves HTTPS that a fetch trusting the CA reaches, and plain fetch does not', async () => {
      expect(await (await tlsFetch({ ca: server.ca })(url)).text()).toBe('ok');
      await expect(fetch(url)).rejects.toMatchObject({ cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN' } });
      await expect(tlsFetch({ ca: stranger.ca })(url)).rejects.toThrow();
      await expect(fetch(url.replace('https:', 'http:'))).rejects.toThrow();
    });

    it('serves plain HTTP without TLS material', async () => {
      const plain = createWebServer(null, (_req, res) => res.end('plain'));
      await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
      try {
        expect(await (await tlsFetch(null)(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`)).text()).toBe('plain');
      } finally {
        plain.close();
      }
    });

    it('puts the worker\'s /metrics behind HTTPS', async () => {
      const metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, tls: server, registries: [], logger: silentLogger });
      try {
        const res = await tlsFetch({ ca: server.ca })(`https://${metrics.address}/healthz`);
        expect(await res.json()).toEqual({ status: 'ok' });
      } finally {
        await metrics.stop();
      }
    });
  });

  describe('gRPC', () => {
    async function serve(requireClientCert: boolean): Promise<{ address: string; stop: () => void }> {
      const s = new grpc.Server();
      s.addService(echo, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
      const port = await new Promise<number>((resolve, reject) => {
        s.bindAsync('127.0.0.1:0', grpcServerCredentials(server, { requireClientCert }), (err, p) => (err ? reject(err) : resolve(p)));
      });
      return { address: `127.0.0.1:${port}`, stop: () => s.forceShutdown() };
    }

    function echoWith(address: string, tls: TlsClientMaterial | null): Promise<string> {
      const c = new EchoClient(address, grpcChannelCredentials(tls));
      return new Promise<string>((resolve) => {
        (c as unknown as { Echo: (req: Buffer, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void })
          .Echo(Buffer.from('hi'), { deadline: Date.now() + 5_000 }, (err, res) => resolve(err ? grpc.status[err.code]! : res!.toString()));
      }).finally(() => c.close());
    }

    it('with a client certificate required, lets in only clients whose certificate comes from the CA', async () => {
      const s = await serve(true);
      try {
        expect(await echoWith(s.address, client)).toBe('hi');
        expect(await echoWith(s.address, { ca: client.ca })).toBe('UNAVAILABLE');
        expect(await echoWith(s.address, { ...stranger, ca: client.ca })).toBe('UNAVAILABLE');
        expect(await echoWith(s.address, null)).toBe('UNAVAILABLE');
      } finally {
        s.stop();
      }
    });

    it('without, takes any client that trusts the CA', async () => {
      const s = await serve(false);
      try {
        expect(await echoWith(s.address, { ca: client.ca })).toBe('hi');
        expect(await echoWith(s.address, { ca: stranger.ca })).toBe('UNAVAILABLE');
      } finally {
        s.stop();
      }
    });
  });
});

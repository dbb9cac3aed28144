import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlsFetch } from '../common/tls/tls-fetch.js';
import type { TlsClientMaterial } from '../common/tls/tls-material.js';
import { loadClusterProto } from '../proto/load-cluster-proto.js';
import { loadInferenceProto } from '../proto/load-inference-proto.js';
import { addOneModel, writeModelRepository } from './support/onnx-model-builder.js';
import { TEST_ADMIN_KEY, authHeaders, bearerInterceptor } from './support/auth.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const MODEL = 'add1';
const CALL_DEADLINE_MS = 10_000;

type Unary = (req: object, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void) => void;
type InferClient = grpc.Client & { ModelInfer: Unary; ServerLive: Unary };
type ClusterClient = grpc.Client & { Register: Unary };

/** The first non-loopback IPv4 address of this machine, if it has one. */
function nonLoopbackIPv4(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

/** One unary call; resolves with the answer or the gRPC status it failed with. */
function call(client: grpc.Client, method: string, request: object): Promise<{ ok: true; res: Record<string, unknown> } | { ok: false; code: number; details: string }> {
  return new Promise((resolve) => {
    ((client as unknown as Record<string, Unary>)[method]!).call(client, request, { deadline: Date.now() + CALL_DEADLINE_MS }, (err, res) => {
      resolve(err === null ? { ok: true, res: res ?? {} } : { ok: false, code: err.code, details: err.details });
    });
  });
}

/** Waits for a process's one-line JSON `listening` event. */
async function listening<T>(p: TestProcess, what: string): Promise<T> {
  return waitFor(what, () => {
    const line = p.output().split('\n').find((l) => l.includes('"event":"listening"'));
    return line === undefined ? null : (JSON.parse(line) as T);
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${p.output().slice(-3000)}`);
  });
}

/** Runs a gridline command to its end. */
async function runToEnd(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const p = gridline(args, env);
  const { code } = await p.exited;
  return { code, output: p.output() };
}

/**
 * Transport security end to end: `gridline certs init` makes a CA and role certificates; a
 * coordinator, a worker and a gateway run with them as separate processes. The worker registers
 * over mutual TLS, inference goes through the gateway over HTTPS and TLS gRPC, and everything
 * without the right certificate is refused: plaintext clients, gRPC clients with no client
 * certificate or one from another CA. A plaintext listener on a network address refuses to start.
 */
describe('TLS and mutual TLS between coordinator, gateway and workers', () => {
  let root: string;
  let tlsDir: string;
  let rogueDir: string;
  let cleanup: () => Promise<void>;
  let coordinator: TestProcess;
  let worker: TestProcess;
  let gateway: TestProcess;
  let coordinatorUrl: string;
  let grpcAddress: string;
  let gatewayUrl: string;
  let gatewayGrpc: string;
  let ca: Buffer;
  let https: typeof fetch;
  const pem = (dir: string, name: string): Promise<Buffer> => readFile(join(dir, `${name}.pem`));

  function logs(): string {
    return [['coordinator', coordinator], ['worker', worker], ['gateway', gateway]]
      .map(([name, p]) => `--- ${name as string}\n${(p as TestProcess | undefined)?.output().slice(-3000) ?? ''}`).join('\n');
  }

  /** The address the worker's model server announced. */
  async function inferenceAddress(): Promise<string> {
    const res = await https(`${coordinatorUrl}/v1/nodes`, { headers: authHeaders() });
    const { nodes } = (await res.json()) as { nodes: { id: string; state: string; inferenceAddress?: string }[] };
    const node = nodes.find((n) => n.id === 'tls-1');
    if (node?.inferenceAddress === undefined) throw new Error(`no inference address yet: ${JSON.stringify(nodes)}`);
    return node.inferenceAddress;
  }

  beforeAll(async () => {
    const t = testPrefix('tls');
    cleanup = t.cleanup;
    root = await mkdtemp(join(tmpdir(), 'gl-tls-'));
    tlsDir = join(root, 'tls');
    rogueDir = join(root, 'rogue');
    for (const dir of [tlsDir, rogueDir]) {
      const made = await runToEnd(['certs', 'init', '--dir', dir]);
      expect(made.code, made.output).toBe(0);
    }
    ca = await pem(tlsDir, 'ca');
    https = tlsFetch({ ca });
    const repo = join(root, 'models');
    await writeModelRepository(repo, { [MODEL]: addOneModel({ shape: [1, 4] }) });

    coordinator = gridline(['coordinator', '--tls-dir', tlsDir, '--http-port', '0', '--grpc-port', '0', '--redis-url', REDIS_URL, '--key-prefix', t.prefix]);
    const c = await listening<{ http: number; grpc: number; joinToken: string }>(coordinator, 'the coordinator to listen');
    coordinatorUrl = `https://127.0.0.1:${c.http}`;
    grpcAddress = `127.0.0.1:${c.grpc}`;
    worker = gridline(['worker', '--coordinator', grpcAddress, '--tls-dir', tlsDir, '--node-id', 'tls-1', '--gpus', 'none', '--model-repository', repo], { GRIDLINE_JOIN_TOKEN: c.joinToken });
    gateway = gridline(['gateway', '--tls-dir', tlsDir, '--coordinator-url', coordinatorUrl, '--http-port', '0', '--grpc-port', '0']);
    const g = await listening<{ http: number; grpc: number }>(gateway, 'the gateway to listen');
    gatewayUrl = `https://127.0.0.1:${g.http}`;
    gatewayGrpc = `127.0.0.1:${g.grpc}`;
  });

  afterAll(async () => {
    await gateway?.kill();
    await worker?.kill();
    await coordinator?.kill();
    await cleanup?.();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('registers the worker over mutual TLS; the CLI reaches the HTTPS API with the CA', async () => {
    await waitFor('the worker to be ready', async () => {
      const res = await https(`${coordinatorUrl}/v1/nodes`, { headers: authHeaders() }).catch(() => null);
      const body = res?.ok === true ? ((await res.json()) as { nodes: { id: string; state: string }[] }) : null;
      return body?.nodes.some((n) => n.id === 'tls-1' && n.state === 'ready');
    }, 90_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    const nodes = await runToEnd(['nodes', '--json', '--tls-dir', tlsDir, '--coordinator-url', coordinatorUrl]);
    expect(nodes.code, nodes.output).toBe(0);
    expect(nodes.output).toContain('"tls-1"');
    // GRIDLINE_TLS_CA does the same; without any CA the CLI says what to pass.
    const byEnv = await runToEnd(['nodes', '--json', '--coordinator-url', coordinatorUrl], { GRIDLINE_TLS_CA: join(tlsDir, 'ca.pem') });
    expect(byEnv.code, byEnv.output).toBe(0);
    const untrusted = await runToEnd(['nodes', '--coordinator-url', coordinatorUrl]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.output).toMatch(/certificate is not trusted: pass --tls-ca/);
  });

  it('serves inference through the gateway over HTTPS and TLS gRPC, to the worker over mutual TLS', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    const rest = await waitFor('the gateway to serve the model over HTTPS', async () => {
      const res = await https(`${gatewayUrl}/v2/models/${MODEL}/infer`, { method: 'POST', headers: authHeaders({ 'content-type': 'application/json' }), body }).catch(() => null);
      return res?.status === 200 ? ((await res.json()) as { outputs: { name: string; shape: number[]; data: number[] }[] }) : null;
    }, 60_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    expect(rest.outputs[0]).toMatchObject({ name: 'y', shape: [1, 4], data: [2, 3, 4, 5] });

    // End users need no client certificate on the gateway's gRPC port: the CA and an API key.
    const Service = loadInferenceProto().inference.GRPCInferenceService;
    const client = new Service(gatewayGrpc, grpc.credentials.createSsl(ca), { interceptors: [bearerInterceptor(TEST_ADMIN_KEY)] }) as unknown as InferClient;
    try {
      const answer = await call(client, 'ModelInfer', {
        modelName: MODEL,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
        rawInputContents: [Buffer.from(new Float32Array([10, 20, 30, 40]).buffer)],
      });
      expect(answer.ok, JSON.stringify(answer)).toBe(true);
      const raw = (answer as unknown as { res: { rawOutputContents: Buffer[] } }).res.rawOutputContents[0]!;
      expect([...new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))]).toEqual([11, 21, 31, 41]);
    } finally {
      client.close();
    }

    const request = join(root, 'request.json');
    await writeFile(request, body);
    const cli = await runToEnd(['infer', MODEL, '--input', request, '--json', '--tls-dir', tlsDir, '--gateway', gatewayUrl]);
    expect(cli.code, cli.output).toBe(0);
    expect(JSON.parse(cli.output.trim().split('\n').at(-1)!)).toMatchObject({ outputs: [{ name: 'y', data: [2, 3, 4, 5] }] });
  });

  it('refuses plaintext clients on every TLS port, and HTTPS clients that do not trust the CA', async () => {
    const coordinatorHttp = coordinatorUrl.replace('https://', 'http://');
    const gatewayHttp = gatewayUrl.replace('https://', 'http://');
    for (const url of [`${coordinatorHttp}/healthz`, `${gatewayHttp}/v2/health/live`]) {
      await expect(fetch(url, { headers: authHeaders() }), url).rejects.toThrow();
    }
    for (const url of [`${coordinatorUrl}/healthz`, `${gatewayUrl}/v2/health/live`]) {
      const err = await fetch(url, { headers: authHeaders() }).then(() => null, (e: Error & { cause?: { code?: string } }) => e);
      expect(err?.cause?.code, url).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    }
    const Service = loadInferenceProto().inference.GRPCInferenceService;
    const Cluster = loadClusterProto().gridline.cluster.v1.Cluster;
    const model = await inferenceAddress();
    for (const [what, client, method] of [
      ['gateway gRPC', new Service(gatewayGrpc, grpc.credentials.createInsecure()), 'ServerLive'],
      ['worker model server', new Service(model, grpc.credentials.createInsecure()), 'ServerLive'],
      ['coordinator Cluster', new Cluster(grpcAddress, grpc.credentials.createInsecure()), 'Register'],
    ] as const) {
      const answer = await call(client as unknown as InferClient, method, {});
      client.close();
      expect(answer, what).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE });
    }
  });

  it('lets only clients with a certificate from the CA through the Cluster port and the model server', async () => {
    const Service = loadInferenceProto().inference.GRPCInferenceService;
    const Cluster = loadClusterProto().gridline.cluster.v1.Cluster;
    const model = await inferenceAddress();
    const material: Record<string, TlsClientMaterial> = {
      'no client certificate': { ca },
      'a certificate from another CA': { ca, cert: await pem(rogueDir, 'worker'), key: await pem(rogueDir, 'worker-key') },
      'the cluster\'s own certificate': { ca, cert: await pem(tlsDir, 'gateway'), key: await pem(tlsDir, 'gateway-key') },
    };
    const credentials = (m: TlsClientMaterial): grpc.ChannelCredentials => grpc.credentials.createSsl(m.ca, m.key ?? null, m.cert ?? null);
    const outcomes: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(material)) {
      const cluster = new Cluster(grpcAddress, credentials(m)) as unknown as ClusterClient;
      const server = new Service(model, credentials(m)) as unknown as InferClient;
      outcomes[`Cluster.Register with ${name}`] = await call(cluster, 'Register', { joinToken: 'not-a-token', nodeId: 'intruder', hostname: 'intruder' });
      outcomes[`model server ServerLive with ${name}`] = await call(server, 'ServerLive', {});
      cluster.close();
      server.close();
    }
    for (const name of ['no client certificate', 'a certificate from another CA']) {
      // The TLS handshake fails: the call never reaches the service.
      expect(outcomes[`Cluster.Register with ${name}`], name).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE });
      expect(outcomes[`model server ServerLive with ${name}`], name).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE });
    }
    // With a certificate from the CA the handshake succeeds and the services answer for themselves:
    // the model server is live, the coordinator turns down the made-up join token.
    expect(outcomes['model server ServerLive with the cluster\'s own certificate']).toMatchObject({ ok: true, res: { live: true } });
    expect(outcomes['Cluster.Register with the cluster\'s own certificate']).toMatchObject({ ok: false });
    expect((outcomes['Cluster.Register with the cluster\'s own certificate'] as { code: number }).code).not.toBe(grpc.status.UNAVAILABLE);
  });

  const ip = nonLoopbackIPv4();
  it.skipIf(ip === undefined)(`refuses to listen in plaintext on a non-loopback address (${ip ?? 'skipped: this machine has no non-loopback IPv4 address'}) unless TLS or --insecure`, async () => {
    const address = ip!;
    const env = { GRIDLINE_JOIN_TOKEN: 'unused' };
    const refusals = {
      coordinator: await runToEnd(['coordinator', '--host', address, '--http-port', '0', '--grpc-port', '0', '--redis-url', REDIS_URL], env),
      gateway: await runToEnd(['gateway', '--host', address, '--http-port', '0', '--grpc-port', '0'], env),
      'worker model server': await runToEnd(['worker', '--coordinator', grpcAddress, '--gpus', 'none', '--inference-host', address], env),
      'worker metrics': await runToEnd(['worker', '--coordinator', grpcAddress, '--gpus', 'none', '--metrics-port', '0', '--metrics-host', address], env),
    };
    for (const [what, result] of Object.entries(refusals)) {
      expect(result.code, `${what}: ${result.output}`).toBe(1);
      expect(result.output, what).toMatch(new RegExp(`refusing to serve .* without TLS on ${address.replace(/\./g, '\\.')} .*gridline certs init.*--tls-dir.*--insecure`));
    }

    // With TLS the same address is fine; with --insecure too, with a warning.
    for (const flags of [['--tls-dir', tlsDir], ['--insecure']]) {
      const g = gridline(['gateway', '--host', address, '--http-port', '0', '--grpc-port', '0', '--coordinator-url', coordinatorUrl, ...flags]);
      try {
        await listening(g, `a gateway on ${address} with ${flags[0]!}`);
        if (flags[0] === '--insecure') expect(g.output()).toMatch(/--insecure: the gateway \(OIP REST and gRPC\) serves plaintext on/);
      } finally {
        await g.kill();
      }
    }
  });
});

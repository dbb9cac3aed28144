import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, newToken } from '../common/auth/secret-token.js';
import { silentLogger } from '../common/logger.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { loadClusterProto } from '../proto/load-cluster-proto.js';
import { loadInferenceProto } from '../proto/load-inference-proto.js';
import { authedFetch, TEST_ADMIN_KEY } from './support/auth.js';
import { addOneModel, writeModelRepository } from './support/onnx-model-builder.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

/**
 * Every route of the coordinator's API, every RPC of the Cluster service, the gateway and the
 * worker's model server, each tried with no credential, a wrong one, an expired one, a revoked one,
 * one without the scope, and (for nodes) another node's credential; then with the right one.
 */
describe('auth: API keys, join tokens, node credentials', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  let repo: string;
  const procs: TestProcess[] = [];
  const keys: Record<'submit' | 'read' | 'infer' | 'gateway' | 'admin' | 'expired' | 'revoked', string> = {} as never;
  let Cluster: ReturnType<typeof loadClusterProto>['gridline']['cluster']['v1']['Cluster'];

  const createKey = async (name: string, scopes: string[], ttlSeconds?: number): Promise<{ id: string; token: string }> => {
    const res = await authedFetch(`${coordinator.httpUrl}/v1/keys`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes, ...(ttlSeconds ? { ttlSeconds } : {}) }),
    });
    expect(res.status).toBe(201);
    return await res.json() as { id: string; token: string };
  };

  beforeAll(async () => {
    const t = testPrefix('auth');
    cleanup = t.cleanup;
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, heartbeatIntervalMs: 300 }, silentLogger);
    for (const scope of ['submit', 'read', 'infer', 'gateway', 'admin'] as const) keys[scope] = (await createKey(`${scope} key`, [scope])).token;
    keys.expired = (await createKey('short-lived', ['submit', 'read', 'infer', 'admin'], 0.2)).token;
    const revoked = await createKey('revoked', ['submit', 'read', 'infer', 'admin']);
    keys.revoked = revoked.token;
    expect((await authedFetch(`${coordinator.httpUrl}/v1/keys/${revoked.id}`, { method: 'DELETE' })).status).toBe(200);
    Cluster = loadClusterProto().gridline.cluster.v1.Cluster;
    repo = await mkdtemp(join(tmpdir(), 'gl-auth-'));
    await writeModelRepository(repo, { add_one: addOneModel({ shape: [-1] }) });
    await new Promise((r) => setTimeout(r, 250)); // the short-lived key expires
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await coordinator?.stop();
    await cleanup?.();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  const ROUTES: readonly { method: string; path: string; scope: 'submit' | 'read' | 'admin'; body?: string }[] = [
    { method: 'POST', path: '/v1/pipelines', scope: 'submit', body: 'not: [a pipeline' },
    { method: 'GET', path: '/v1/runs', scope: 'read' },
    { method: 'GET', path: '/v1/runs/none', scope: 'read' },
    { method: 'GET', path: '/v1/runs/none/dlq', scope: 'read' },
    { method: 'POST', path: '/v1/runs/none/dlq/replay', scope: 'submit' },
    { method: 'DELETE', path: '/v1/runs/none', scope: 'submit' },
    { method: 'GET', path: '/v1/nodes', scope: 'read' },
    { method: 'POST', path: '/v1/nodes/none/drain', scope: 'admin' },
    { method: 'POST', path: '/v1/nodes/none/undrain', scope: 'admin' },
    { method: 'POST', path: '/v1/nodes/none/revoke', scope: 'admin' },
    { method: 'GET', path: '/v1/routes', scope: 'read' },
    { method: 'GET', path: '/v1/keys', scope: 'admin' },
    { method: 'POST', path: '/v1/keys', scope: 'admin', body: '{"scopes":["read"]}' },
    { method: 'DELETE', path: '/v1/keys/000000000000', scope: 'admin' },
    { method: 'GET', path: '/v1/join-tokens', scope: 'admin' },
    { method: 'POST', path: '/v1/join-tokens', scope: 'admin', body: '{}' },
    { method: 'DELETE', path: '/v1/join-tokens/000000000000', scope: 'admin' },
  ];

  it('checks every coordinator route: 401 without a valid key, 403 without the scope, served with it', async () => {
    const call = async (route: (typeof ROUTES)[number], key: string | null): Promise<{ status: number; body: { error?: { code: string; message: string } } }> => {
      const headers: Record<string, string> = { 'content-type': route.body?.startsWith('{') ? 'application/json' : 'application/yaml' };
      if (key !== null) headers.authorization = `Bearer ${key}`;
      const res = await fetch(`${coordinator.httpUrl}${route.path}`, { method: route.method, headers, ...(route.body ? { body: route.body } : {}) });
      return { status: res.status, body: await res.json() as { error?: { code: string; message: string } } };
    };
    let tried = 0;
    for (const route of ROUTES) {
      const what = `${route.method} ${route.path}`;
      for (const key of [null, 'wrong', `glk_000000000000_${'x'.repeat(43)}`, keys.expired, keys.revoked]) {
        const { status, body } = await call(route, key);
        expect(status, `${what} with ${key}`).toBe(401);
        expect(body.error?.code).toBe('UNAUTHENTICATED');
        if (key !== null) expect(body.error?.message).not.toContain(key);
        tried++;
      }
      const others = (['submit', 'read', 'infer', 'gateway'] as const).filter((s) => s !== route.scope);
      for (const scope of others) {
        const { status, body } = await call(route, keys[scope]);
        expect(status, `${what} with a ${scope} key`).toBe(403);
        expect(body.error).toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining(`lacks the "${route.scope}" scope`) as string });
        tried++;
      }
      for (const key of [keys[route.scope], keys.admin, TEST_ADMIN_KEY]) {
        const { status } = await call(route, key);
        expect([401, 403], `${what} with the right key answered ${status}`).not.toContain(status);
        tried++;
      }
    }
    expect((await fetch(`${coordinator.httpUrl}/healthz`)).status).toBe(200);
    console.log(`auth: ${ROUTES.length} coordinator routes, ${tried} calls checked`);
  });

  it('sends the key table on the routes watch only to a gateway-scoped caller', async () => {
    const firstLines = async (key: string): Promise<string[]> => {
      const controller = new AbortController();
      const res = await fetch(`${coordinator.httpUrl}/v1/routes/watch`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let text = '';
      while (text.split('\n').length < 2) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      return text.split('\n').filter((l) => l !== '');
    };
    const forGateway = await firstLines(keys.gateway);
    const keyLine = JSON.parse(forGateway[0]!) as { type: string; keys: { id: string; hash: string }[]; serviceToken: string };
    expect(keyLine.type).toBe('keys');
    expect(keyLine.serviceToken).toBe(coordinator.access.serviceToken());
    expect(JSON.stringify(keyLine)).not.toContain(keys.infer);
    expect(keyLine.keys.some((k) => keys.infer.includes(k.id))).toBe(true);
    const forReader = await firstLines(keys.read);
    expect(forReader.map((l) => (JSON.parse(l) as { type: string }).type)).not.toContain('keys');
    expect((await fetch(`${coordinator.httpUrl}/v1/routes/watch`)).status).toBe(401);
  });

  const register = (joinToken: string, nodeId: string, credential?: string): Promise<{ nodeCredential: string; serviceToken: string }> => new Promise((resolve, reject) => {
    const client = new Cluster(coordinator.grpcAddress, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    if (credential !== undefined) md.set('authorization', `Bearer ${credential}`);
    client.Register({ joinToken, nodeId, hostname: 'h', resources: { cpu: 1, memoryBytes: '1000', gpus: [] } }, md, (err, res) => {
      client.close();
      if (err !== null || res === undefined) reject(err ?? new Error('no answer'));
      else resolve(res);
    });
  });

  /** Opens Connect as `nodeId` with `credential`; resolves with the status it ends with (OK if it stays open 1 s). */
  const connect = (nodeId: string, credential: string): Promise<{ code: number; details: string }> => new Promise((resolve) => {
    const client = new Cluster(coordinator.grpcAddress, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${credential}`);
    md.set('x-gridline-node-id', nodeId);
    const stream = client.Connect(md);
    const done = (code: number, details: string): void => {
      clearTimeout(timer);
      stream.cancel();
      client.close();
      resolve({ code, details });
    };
    const timer = setTimeout(() => done(grpc.status.OK, 'open'), 1_000);
    stream.on('data', () => undefined);
    stream.on('error', (err: grpc.ServiceError) => done(err.code, err.details));
  });

  it('registers a node only with a valid join token, and takes the control stream only on its own credential', async () => {
    const created = await (await authedFetch(`${coordinator.httpUrl}/v1/join-tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"t1"}' })).json() as { id: string; token: string };
    const short = await (await authedFetch(`${coordinator.httpUrl}/v1/join-tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ttlSeconds":0.2}' })).json() as { token: string };
    const gone = await (await authedFetch(`${coordinator.httpUrl}/v1/join-tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json() as { id: string; token: string };
    await authedFetch(`${coordinator.httpUrl}/v1/join-tokens/${gone.id}`, { method: 'DELETE' });
    await new Promise((r) => setTimeout(r, 250));
    for (const [token, reason] of [['', /no join token/], ['wrong', /invalid join token/], [short.token, /expired/], [gone.token, /revoked/], [keys.admin, /invalid join token/]] as const) {
      await expect(register(token, 'n-bad')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(reason) as string });
    }
    expect(coordinator.registry.get('n-bad')).toBeUndefined();

    const a = await register(created.token, 'n-a');
    const b = await register(created.token, 'n-b');
    expect(a.serviceToken).toBe(coordinator.access.serviceToken());
    // Every way in but its own credential is refused.
    for (const [id, cred] of [['n-a', ''], ['n-a', 'wrong'], ['n-a', b.nodeCredential], ['n-b', a.nodeCredential], ['n-c', a.nodeCredential]] as const) {
      expect((await connect(id, cred)).code, `${id} with ${cred}`).toBe(grpc.status.UNAUTHENTICATED);
    }
    expect((await connect('n-a', a.nodeCredential)).code).toBe(grpc.status.OK);
    // Registering under a taken id: a node's own credential lets it back without a join token; another's does not.
    await expect(register('', 'n-a', b.nodeCredential)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    // A join token does not take over the id of a node that is only away.
    await register(created.token, 'n-d');
    await expect(register(created.token, 'n-d')).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS, details: expect.stringMatching(/belongs to a registered node/) as string });
    const again = await register('', 'n-a', a.nodeCredential);
    expect(again.nodeCredential).not.toBe(a.nodeCredential);
    expect((await connect('n-a', a.nodeCredential)).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('disconnects a revoked node at once and never lets its id back; the worker exits saying so', async () => {
    const worker = gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', 'victim', '--gpus', 'none', '--model-repository', repo], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken });
    procs.push(worker);
    await waitFor('the worker to be ready', () => coordinator.registry.get('victim')?.state === 'ready', 30_000);
    const res = await authedFetch(`${coordinator.httpUrl}/v1/nodes/victim/revoke`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node: { state: string } }).node.state).toBe('lost');
    const exit = await worker.exited;
    expect(exit.code, worker.output()).toBe(1);
    expect(worker.output()).toMatch(/revoked by an operator/);
    await expect(register(coordinator.joinToken, 'victim')).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringMatching(/was revoked/) as string });
  });

  it('serves inference through a gateway only to infer-scoped keys; the worker takes only the service token; a revoked key stops working', async () => {
    const worker = gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', 'server', '--gpus', 'none', '--model-repository', repo], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken });
    procs.push(worker);
    const node = await waitFor('the model server to register', () => {
      const n = coordinator.registry.get('server');
      return n?.state === 'ready' ? n : null;
    }, 60_000);

    // Straight to the worker: nothing but the service token (not even an admin API key).
    const Inference = loadInferenceProto().inference.GRPCInferenceService;
    const direct = new Inference(node.inferenceAddress!, grpc.credentials.createInsecure());
    type Rpc = (req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null) => void) => void;
    const rpc = (method: string, request: object, token: string | null): Promise<number> => new Promise((resolve) => {
      const md = new grpc.Metadata();
      if (token !== null) md.set('authorization', `Bearer ${token}`);
      (direct as unknown as Record<string, Rpc>)[method]!.call(direct, request, md, (err) => resolve(err === null ? grpc.status.OK : err.code));
    });
    const calls: [string, object][] = [
      ['ModelReady', { name: 'add_one' }], ['ModelMetadata', { name: 'add_one' }], ['ServerMetadata', {}],
      ['ModelInfer', { modelName: 'add_one', inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], rawInputContents: [Buffer.alloc(4)] }],
    ];
    try {
      for (const [method, request] of calls) {
        for (const token of [null, 'wrong', TEST_ADMIN_KEY, keys.infer]) {
          expect(await rpc(method, request, token), `${method} with ${token}`).toBe(grpc.status.UNAUTHENTICATED);
        }
        expect(await rpc(method, request, coordinator.access.serviceToken()), method).toBe(grpc.status.OK);
      }
      // Liveness and readiness stay open for probes.
      expect(await rpc('ServerLive', {}, null)).toBe(grpc.status.OK);
      expect(await rpc('ServerReady', {}, null)).toBe(grpc.status.OK);
    } finally {
      direct.close();
    }

    const appKey = await createKey('app', ['infer']);
    const gateway = gridline(['gateway', '--coordinator-url', coordinator.httpUrl, '--http-port', '0', '--grpc-port', '0'], { GRIDLINE_API_KEY: keys.gateway });
    procs.push(gateway);
    const listening = await waitFor('the gateway to listen', () => {
      const line = gateway.output().split('\n').find((l) => l.includes('"event":"listening"'));
      return line === undefined ? null : JSON.parse(line) as { http: number };
    }, 30_000);
    const url = `http://127.0.0.1:${listening.http}/v2/models/add_one/infer`;
    const infer = (key: string | null): Promise<Response> => fetch(url, {
      method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] }),
      headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    });
    await waitFor('the gateway to route add_one', async () => (await infer(appKey.token)).status === 200, 30_000, 100);
    const answer = await (await infer(appKey.token)).json() as { outputs: { data: number[] }[] };
    expect(answer.outputs[0]?.data).toEqual([2, 3]);
    for (const [key, status] of [[null, 401], ['wrong', 401], [keys.expired, 401], [keys.revoked, 401], [keys.read, 403], [keys.submit, 403]] as const) {
      expect((await infer(key)).status, `gateway with ${key}`).toBe(status);
    }
    await authedFetch(`${coordinator.httpUrl}/v1/keys/${appKey.id}`, { method: 'DELETE' });
    await waitFor('the gateway to refuse the revoked key', async () => (await infer(appKey.token)).status === 401, 10_000, 50);

    // Revoking a node replaces the service token it knew: the worker and the gateway get the new
    // one at once and inference goes on; the worker takes the new one directly.
    const before = coordinator.access.serviceToken();
    await register(coordinator.joinToken, 'doomed');
    expect((await authedFetch(`${coordinator.httpUrl}/v1/nodes/doomed/revoke`, { method: 'POST' })).status).toBe(200);
    const after = coordinator.access.serviceToken();
    expect(after).not.toBe(before);
    const direct2 = new Inference(node.inferenceAddress!, grpc.credentials.createInsecure());
    try {
      await waitFor('the worker to take the new service token', () => new Promise<boolean>((resolve) => {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${after}`);
        direct2.ModelReady({ name: 'add_one' }, md, (err) => resolve(err === null));
      }), 10_000, 50);
    } finally {
      direct2.close();
    }
    expect((await infer(keys.infer)).status).toBe(200);

    // A gateway whose own key lacks the gateway scope gets no keys, so it serves nobody.
    const blind = gridline(['gateway', '--coordinator-url', coordinator.httpUrl, '--http-port', '0', '--grpc-port', '0'], { GRIDLINE_API_KEY: keys.read });
    procs.push(blind);
    const blindPort = await waitFor('the second gateway to listen', () => {
      const line = blind.output().split('\n').find((l) => l.includes('"event":"listening"'));
      return line === undefined ? null : (JSON.parse(line) as { http: number }).http;
    }, 30_000);
    await waitFor('the scope warning', () => /lacks the \\?"gateway\\?" scope/.test(blind.output()), 10_000);
    const res = await fetch(`http://127.0.0.1:${blindPort}/v2/models/add_one/infer`, { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, body: '{}' });
    expect(res.status).toBe(503);

    // Revoking the first gateway's own key ends its watch: it stops serving on the last table.
    expect((await infer(keys.infer)).status).toBe(200);
    const gatewayKeyId = /^glk_([0-9a-f]{12})_/.exec(keys.gateway)![1]!;
    await authedFetch(`${coordinator.httpUrl}/v1/keys/${gatewayKeyId}`, { method: 'DELETE' });
    await waitFor('the gateway to fail closed', async () => (await infer(keys.infer)).status === 503, 15_000, 100);
    expect(gateway.output()).toMatch(/refusing every request until a valid key is back/);
  });
});

describe('credentials in Redis are sealed', () => {
  it('refuses an admin key or a node credential planted in Redis by something that can write it (a worker)', async () => {
    const t = testPrefix('auth-seal');
    const options = { adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, recordSecret: 'auth-seal-test-secret-0123456789abcdef' };
    let coordinator = await startCoordinator(options, silentLogger);
    const redis = new Redis(REDIS_URL);
    try {
      const Cluster = loadClusterProto().gridline.cluster.v1.Cluster;
      const client = new Cluster(coordinator.grpcAddress, grpc.credentials.createInsecure());
      await new Promise<void>((resolve, reject) => client.Register({ joinToken: coordinator.joinToken, nodeId: 'honest', hostname: 'h', resources: { cpu: 1, memoryBytes: '1', gpus: [] } }, (err) => (err ? reject(err) : resolve())));
      client.close();
      // What a worker could write with the Redis access it has for the stage queues.
      const forgedKey = newToken('glk');
      await redis.hset(`${t.prefix}:api-keys`, forgedKey.id, JSON.stringify({ id: forgedKey.id, name: 'mine', scopes: ['admin'], hash: forgedKey.hash, createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null }));
      const stolen = 'a-credential-the-attacker-knows';
      await redis.hset(`${t.prefix}:node-credentials`, 'honest', hashToken(stolen));
      await coordinator.stop();
      coordinator = await startCoordinator(options, silentLogger);
      const res = await fetch(`${coordinator.httpUrl}/v1/nodes`, { headers: { authorization: `Bearer ${forgedKey.token}` } });
      expect(res.status).toBe(401);
      const again = new Cluster(coordinator.grpcAddress, grpc.credentials.createInsecure());
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${stolen}`);
      md.set('x-gridline-node-id', 'honest');
      const code = await new Promise<number>((resolve) => {
        const stream = again.Connect(md);
        const timer = setTimeout(() => resolve(grpc.status.OK), 1_000);
        stream.on('data', () => undefined);
        stream.on('error', (err: grpc.ServiceError) => {
          clearTimeout(timer);
          resolve(err.code);
        });
      });
      again.close();
      expect(code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      redis.disconnect();
      await coordinator.stop();
      await t.cleanup();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import type { NodeRecord } from '../common/run-types.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ADMIN_KEY, authedFetch } from './support/auth.js';

/** Real coordinator, real worker processes, real gRPC, real Redis. */
describe('node registration and leases', () => {
  const HEARTBEAT_MS = 300;
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  const workers: TestProcess[] = [];

  beforeEach(async () => {
    const t = testPrefix('leases');
    cleanup = t.cleanup;
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, heartbeatIntervalMs: HEARTBEAT_MS }, silentLogger);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
    await coordinator.stop();
    await cleanup();
  });

  const startWorker = (nodeId: string, extra: string[] = [], token = coordinator.joinToken): TestProcess => {
    const w = gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', nodeId, ...extra], { GRIDLINE_JOIN_TOKEN: token });
    workers.push(w);
    return w;
  };

  const nodes = async (): Promise<NodeRecord[]> => ((await (await authedFetch(`${coordinator.httpUrl}/v1/nodes`)).json()) as { nodes: NodeRecord[] }).nodes;

  it('registers a worker with its simulated GPUs and labels, and lists it over the API', async () => {
    const w = startWorker('gpu-box', ['--gpus', 'sim:2xA100-80GB', '--label', 'zone=a']);
    const node = await waitFor('the node to be ready', async () => (await nodes()).find((n) => n.id === 'gpu-box' && n.state === 'ready'), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${w.output()}`);
    });
    expect(node.gpus).toHaveLength(2);
    expect(node.gpus[0]).toMatchObject({ index: 0, model: 'A100', simulated: true, memory: 80 * 1024 ** 3 });
    expect(node.labels).toEqual({ zone: 'a' });
    expect(node.cpu).toBeGreaterThan(0);
  });

  it('says plainly when a node has no GPU', async () => {
    const w = startWorker('cpu-box', ['--gpus', 'auto']);
    await waitFor('the node to be ready', async () => (await nodes()).find((n) => n.id === 'cpu-box' && n.state === 'ready'));
    expect(w.output()).toMatch(/CPU node/);
  });

  it('marks a SIGKILLed worker lost within three heartbeat intervals of its last heartbeat', async () => {
    startWorker('doomed');
    await waitFor('the node to be ready', () => coordinator.registry.get('doomed')?.state === 'ready');
    // Let a few heartbeats flow so the lease is being renewed, not riding on registration.
    await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS));
    const lost = new Promise<{ silentMs: number }>((resolve) => {
      coordinator.registry.once('lost', (_node, silentMs) => resolve({ silentMs }));
    });
    const killedAt = Date.now();
    workers[0]!.child.kill('SIGKILL');
    const { silentMs } = await lost;
    // silentMs: from the last heartbeat the coordinator received to the moment it declared the loss.
    expect(silentMs).toBeLessThanOrEqual(3 * HEARTBEAT_MS);
    expect(coordinator.registry.get('doomed')?.state).toBe('lost');
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    const listed = (await nodes()).find((n) => n.id === 'doomed');
    expect(listed?.state).toBe('lost');
  });

  it('brings a lost node back when it reconnects', async () => {
    startWorker('phoenix');
    await waitFor('ready', () => coordinator.registry.get('phoenix')?.state === 'ready');
    workers.pop()!.child.kill('SIGKILL');
    await waitFor('lost', () => coordinator.registry.get('phoenix')?.state === 'lost', 10_000);
    startWorker('phoenix');
    await waitFor('ready again', () => coordinator.registry.get('phoenix')?.state === 'ready', 30_000);
  });

  it('refuses a wrong join token: the worker exits 1 saying why', async () => {
    const w = startWorker('intruder', [], 'not-the-token');
    const { code } = await w.exited;
    expect(code).toBe(1);
    expect(w.output()).toMatch(/invalid join token/);
    expect(coordinator.registry.get('intruder')).toBeUndefined();
  });
});

describe('coordinator restart', () => {
  it('reloads its nodes from Redis and the worker reconnects to the new process with its credential', async () => {
    const { freePort } = await import('../common/ports.js');
    const t = testPrefix('restart');
    const grpcPort = await freePort();
    const options = { adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort, heartbeatIntervalMs: 300 };
    let first: RunningCoordinator | null = await startCoordinator(options, silentLogger);
    const worker = gridline(['worker', '--coordinator', first.grpcAddress, '--node-id', 'survivor'], { GRIDLINE_JOIN_TOKEN: first.joinToken });
    let second: RunningCoordinator | null = null;
    try {
      await waitFor('ready on the first coordinator', () => first!.registry.get('survivor')?.state === 'ready');
      const token = first.joinToken;
      await first.stop();
      first = null;
      second = await startCoordinator(options, silentLogger);
      // Each start makes a join token of its own; the first one is still valid after the restart.
      expect(() => second!.access.checkJoinToken(token)).not.toThrow();
      expect(second.registry.get('survivor')?.state).toBe('disconnected');
      await waitFor('ready on the second coordinator', () => second!.registry.get('survivor')?.state === 'ready', 30_000);
      expect(worker.output()).not.toMatch(/registering again/);
    } finally {
      await worker.kill();
      await first?.stop();
      await second?.stop();
      await t.cleanup();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import type { NodeRecord } from '../../common/run-types.js';
import type { CoordinatorStore } from '../store/coordinator-store.js';
import { NodeRegistry } from './node-registry.js';

/** Only the node calls matter here; the registry's persistence is tested against Redis in test/. */
function memoryStore(): CoordinatorStore & { saved: NodeRecord[] } {
  const saved: NodeRecord[] = [];
  const no = (): never => {
    throw new Error('not used');
  };
  return {
    saved,
    loadNodes: async () => saved,
    saveNode: async (n) => {
      saved.push(n);
    },
    saveNodes: async (ns) => {
      saved.push(...ns);
    },
    loadRuns: no, saveRun: no, loadAssignments: no, saveAssignments: no, deleteAssignments: no,
    saveCredentialHash: no, loadCredentialHashes: no, runCounters: no, runErrors: no, deadLetters: no, deadLetterCount: no,
  };
}

const node = { id: 'n1', hostname: 'h', cpu: 4, memory: 8e9, gpus: [], labels: {}, agentVersion: 'x', inferenceAddress: null, servedModels: [] };

describe('NodeRegistry leases', () => {
  it('keeps a heartbeating node and marks a silent one lost once its TTL runs out', async () => {
    let now = 0;
    const registry = new NodeRegistry(memoryStore(), { heartbeatIntervalMs: 100, ttlMs: 250 }, silentLogger, () => now);
    const lost: [string, number][] = [];
    registry.on('lost', (n, silent) => lost.push([n.id, silent]));
    await registry.register(node);
    await registry.connected('n1');
    for (now = 0; now <= 1000; now += 100) {
      registry.heartbeat('n1');
      registry.sweep();
    }
    expect(registry.get('n1')?.state).toBe('ready');
    const lastBeat = now - 100;
    for (; now <= 2000; now += 25) registry.sweep();
    expect(registry.get('n1')?.state).toBe('lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]![1]).toBeGreaterThanOrEqual(250);
    expect(lost[0]![1]).toBeLessThanOrEqual(250 + 25);
    expect(lastBeat).toBeGreaterThan(0);
  });

  it('treats a dropped stream as disconnected, not lost, until the TTL says so', async () => {
    let now = 0;
    const registry = new NodeRegistry(memoryStore(), { heartbeatIntervalMs: 100, ttlMs: 250 }, silentLogger, () => now);
    await registry.register(node);
    await registry.connected('n1');
    await registry.disconnected('n1');
    expect(registry.get('n1')?.state).toBe('disconnected');
    now = 200;
    registry.sweep();
    expect(registry.get('n1')?.state).toBe('disconnected');
    await registry.connected('n1');
    expect(registry.get('n1')?.state).toBe('ready');
  });

  it('refuses heartbeats from a lost node so it must register again', async () => {
    let now = 0;
    const registry = new NodeRegistry(memoryStore(), { heartbeatIntervalMs: 100, ttlMs: 250 }, silentLogger, () => now);
    await registry.register(node);
    now = 1000;
    registry.sweep();
    expect(registry.heartbeat('n1')).toBe(false);
    await registry.register(node);
    expect(registry.heartbeat('n1')).toBe(true);
  });

  it('gives reloaded nodes one TTL to come back after a coordinator restart', async () => {
    let now = 0;
    const store = memoryStore();
    const first = new NodeRegistry(store, { heartbeatIntervalMs: 100, ttlMs: 250 }, silentLogger, () => now);
    await first.register(node);
    await first.connected('n1');
    now = 5000;
    const second = new NodeRegistry(store, { heartbeatIntervalMs: 100, ttlMs: 250 }, silentLogger, () => now);
    await second.load();
    expect(second.get('n1')?.state).toBe('disconnected');
    now = 5200;
    second.sweep();
    expect(second.get('n1')?.state).toBe('disconnected');
    now = 5300;
    second.sweep();
    expect(second.get('n1')?.state).toBe('lost');
  });
});

describe('NodeRegistry drain', () => {
  const lease = { heartbeatIntervalMs: 100, ttlMs: 250 };

  it('keeps a draining node draining through reconnects, re-registration and a coordinator restart', async () => {
    let now = 0;
    const store = memoryStore();
    const registry = new NodeRegistry(store, lease, silentLogger, () => now);
    await registry.register(node);
    await registry.connected('n1');
    expect((await registry.drain('n1')).state).toBe('draining');
    expect(store.saved.at(-1)?.state).toBe('draining');
    await registry.disconnected('n1');
    await registry.connected('n1');
    registry.heartbeat('n1');
    expect(registry.get('n1')?.state).toBe('draining');
    await registry.register(node);
    await registry.connected('n1');
    expect(registry.get('n1')?.state).toBe('draining');

    now = 5000;
    const restarted = new NodeRegistry(store, lease, silentLogger, () => now);
    await restarted.load();
    expect(restarted.get('n1')?.state).toBe('draining');
    await restarted.connected('n1');
    expect(restarted.get('n1')?.state).toBe('draining');
    // Draining is no lease: a silent draining node is still lost.
    now = 20_000;
    restarted.sweep();
    expect(restarted.get('n1')?.state).toBe('lost');
  });

  it('undrains to ready when the stream is up, to disconnected when it is not', async () => {
    const registry = new NodeRegistry(memoryStore(), lease, silentLogger, () => 0);
    const ready: string[] = [];
    registry.on('ready', (n) => ready.push(n.id));
    await registry.register(node);
    await registry.connected('n1');
    await registry.drain('n1');
    await registry.drain('n1');
    ready.length = 0;
    expect((await registry.undrain('n1')).state).toBe('ready');
    expect(ready).toEqual(['n1']);
    expect((await registry.undrain('n1')).state).toBe('ready');

    await registry.drain('n1');
    await registry.disconnected('n1');
    expect((await registry.undrain('n1')).state).toBe('disconnected');
    await registry.connected('n1');
    expect(registry.get('n1')?.state).toBe('ready');
  });

  it('refuses to drain an unknown node (NOT_FOUND) or a lost one (CONFLICT)', async () => {
    let now = 0;
    const registry = new NodeRegistry(memoryStore(), lease, silentLogger, () => now);
    await expect(registry.drain('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await registry.register(node);
    now = 1000;
    registry.sweep();
    await expect(registry.drain('n1')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(registry.undrain('n1')).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

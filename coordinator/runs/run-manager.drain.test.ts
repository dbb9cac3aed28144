import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { parseWorkload } from '../../common/pipeline/parse-pipeline.js';
import type { CoordinatorMessage } from '../../proto/generated/gridline/cluster/v1/CoordinatorMessage.js';
import type { RunQueues } from '../queues/run-queues.js';
import { NodeRegistry } from '../registry/node-registry.js';
import { RunManager, type NodeChannel } from './run-manager.js';
import type { CoordinatorStore } from '../store/coordinator-store.js';
import { memoryCoordinatorStore } from '../store/memory-coordinator-store.js';

const GiB = 2 ** 30;
/** The OCR pipeline: 7 replicas, recognize with 2 (spread over both nodes). */
const OCR = parseWorkload(readFileSync(new URL('../../pipelines/ocr.yaml', import.meta.url), 'utf8'));

const memoryStore = memoryCoordinatorStore;

const queues: RunQueues = { startSource: async () => undefined, cleanup: async () => undefined, close: async () => undefined };

interface Sent {
  readonly nodeId: string;
  readonly message: CoordinatorMessage;
}

/** A coordinator's registry and run manager over `store`, with nodes node-a and node-b connected. */
async function coordinator(store: CoordinatorStore, options: { load?: boolean } = {}) {
  const sent: Sent[] = [];
  const channel: NodeChannel = {
    send: (nodeId, message) => {
      sent.push({ nodeId, message });
      return true;
    },
  };
  const registry = new NodeRegistry(store, { heartbeatIntervalMs: 1_000, ttlMs: 3_000 }, silentLogger);
  const manager = new RunManager(store, registry, queues, channel, {
    keyPrefix: 'gl', reconcileIntervalMs: 1_000, unschedulableTimeoutMs: 60_000, heartbeatIntervalMs: 1_000,
  }, silentLogger);
  if (options.load === true) {
    await registry.load();
    await manager.load();
  }
  for (const id of ['node-a', 'node-b']) {
    if (registry.get(id) === undefined) {
      await registry.register({ id, hostname: id, cpu: 8, memory: 16 * GiB, gpus: [], labels: {}, agentVersion: 'test', inferenceAddress: null, servedModels: [] });
    }
    await registry.connected(id);
  }
  const starts = (): { nodeId: string; replicaId: string }[] => sent.flatMap(({ nodeId, message }) => (message.start ? [{ nodeId, replicaId: message.start.replicaId ?? '' }] : []));
  const stops = (): { nodeId: string; replicaId: string; drain: boolean }[] => sent.flatMap(({ nodeId, message }) => (message.stop ? [{ nodeId, replicaId: message.stop.replicaId ?? '', drain: message.stop.drain === true }] : []));
  const placement = async (runId: string): Promise<Map<string, string | null>> =>
    new Map((await manager.view(runId)).replicas.map((r) => [r.replicaId, r.nodeId]));
  return { registry, manager, sent, starts, stops, placement };
}

const on = (placement: Map<string, string | null>, nodeId: string): string[] => [...placement].filter(([, n]) => n === nodeId).map(([id]) => id).sort();

describe('RunManager: draining a node', () => {
  it('stops the node\'s replicas with drain, places them on another node, and sends it nothing new', async () => {
    const c = await coordinator(memoryStore());
    const run = await c.manager.submit(OCR);
    await c.manager.reconcileNow();
    const before = on(await c.placement(run.id), 'node-a');
    expect(before.length).toBeGreaterThan(0);
    c.sent.length = 0;

    const { node, moved } = await c.manager.drainNode('node-a');
    expect(node.state).toBe('draining');
    expect(moved.sort()).toEqual(before);
    expect(c.stops()).toEqual(before.map((replicaId) => ({ nodeId: 'node-a', replicaId, drain: true })));
    await c.manager.reconcileNow();

    const after = await c.placement(run.id);
    expect(on(after, 'node-a')).toEqual([]);
    expect(on(after, 'node-b')).toHaveLength(after.size);
    expect(c.starts().filter((s) => before.includes(s.replicaId))).toEqual(before.map((replicaId) => ({ nodeId: 'node-b', replicaId })));
    expect(c.starts().filter((s) => s.nodeId === 'node-a')).toEqual([]);

    // A second run goes to node-b alone, even with a 2-replica stage that would spread.
    const second = await c.manager.submit({ ...OCR, metadata: { ...OCR.metadata, name: 'ocr-2' } });
    await c.manager.reconcileNow();
    expect(on(await c.placement(second.id), 'node-a')).toEqual([]);
    expect(c.starts().filter((s) => s.nodeId === 'node-a')).toEqual([]);
  });

  it('answers the drained node\'s heartbeats gently: a moved replica still running is stopped with drain, a draining one is left to finish', async () => {
    const c = await coordinator(memoryStore());
    const run = await c.manager.submit(OCR);
    await c.manager.reconcileNow();
    const [first, second] = on(await c.placement(run.id), 'node-a').concat(on(await c.placement(run.id), 'node-b'));
    await c.manager.drainNode('node-a');
    await c.manager.reconcileNow();
    c.sent.length = 0;

    c.manager.onHeartbeat('node-a', [
      { replicaId: first!, phase: 'running', message: '' },
      { replicaId: second!, phase: 'draining', message: '' },
    ]);
    expect(c.stops()).toEqual([{ nodeId: 'node-a', replicaId: first, drain: true }]);
    // Its reports do not touch the replacement's assignment on node-b.
    expect((await c.placement(run.id)).get(first!)).toBe('node-b');
  });

  it('keeps a node drained across a coordinator restart, moving replicas a crash left bound to it', async () => {
    const store = memoryStore();
    const c = await coordinator(store);
    const run = await c.manager.submit(OCR);
    await c.manager.reconcileNow();
    const before = on(await c.placement(run.id), 'node-a');
    expect(before.length).toBeGreaterThan(0);
    // The drain reached Redis, the coordinator died before moving the replicas.
    await c.registry.drain('node-a');
    await c.manager.stop();

    const restarted = await coordinator(store, { load: true });
    expect(restarted.registry.get('node-a')?.state).toBe('draining');
    await restarted.manager.reconcileNow();
    expect(on(await restarted.placement(run.id), 'node-a')).toEqual([]);
    expect(restarted.stops()).toEqual(before.map((replicaId) => ({ nodeId: 'node-a', replicaId, drain: true })));
    expect(restarted.starts().filter((s) => s.nodeId === 'node-a')).toEqual([]);
  });

  it('takes replicas on an undrained node again', async () => {
    const c = await coordinator(memoryStore());
    await c.manager.drainNode('node-a');
    expect((await c.manager.undrainNode('node-a')).state).toBe('ready');
    const run = await c.manager.submit(OCR);
    await c.manager.reconcileNow();
    expect(on(await c.placement(run.id), 'node-a').length).toBeGreaterThan(0);
  });

  it('refuses an unknown node with NOT_FOUND', async () => {
    const c = await coordinator(memoryStore());
    await expect(c.manager.drainNode('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../cli/create-logger.js';
import type { NodeRecord, ReplicaPhase, RunView } from '../common/run-types.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import type { ReportedReplica } from '../coordinator/runs/run-manager.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { TEST_ADMIN_KEY, authedFetch } from './support/auth.js';

const PIPELINE = fileURLToPath(new URL('../pipelines/ocr.yaml', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../pipelines/data/bw_text.png', import.meta.url));
const FINAL = ['succeeded', 'failed', 'cancelled'];

/**
 * `gridline drain` on real parts: a coordinator, two worker processes, the OCR pipeline with its
 * real models. The node holding the detect model is drained mid-run (through the CLI process):
 * its replicas finish what they hold and move, and every item still reaches the sink once.
 */
describe('draining a node mid-run', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  let dir: string;
  const workers: TestProcess[] = [];
  const IMAGES = Array.from({ length: 12 }, (_, i) => `img-${String(i).padStart(2, '0')}.png`);
  /** What each node last said about its replicas, and every phase it reported. */
  const heartbeats = new Map<string, readonly ReportedReplica[]>();
  const phases = new Map<string, Set<ReplicaPhase>>();

  beforeAll(async () => {
    const t = testPrefix('drain');
    cleanup = t.cleanup;
    dir = await mkdtemp(join(tmpdir(), 'gl-drain-'));
    for (const name of IMAGES) await copyFile(SAMPLE, join(dir, name));
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, heartbeatIntervalMs: 500 }, createLogger({ name: 'drain', level: 'warn', format: 'json' }));
    // Watch what the nodes report, in-process, on the coordinator's own entry points.
    const runs = coordinator.runs;
    const onHeartbeat = runs.onHeartbeat.bind(runs);
    const onReplicaState = runs.onReplicaState.bind(runs);
    const seen = (nodeId: string, r: ReportedReplica): void => {
      if (!phases.has(nodeId)) phases.set(nodeId, new Set());
      phases.get(nodeId)!.add(r.phase);
    };
    runs.onHeartbeat = (nodeId, reported) => {
      heartbeats.set(nodeId, reported);
      for (const r of reported) seen(nodeId, r);
      onHeartbeat(nodeId, reported);
    };
    runs.onReplicaState = (nodeId, report) => {
      seen(nodeId, report);
      onReplicaState(nodeId, report);
    };
    for (const [i, gpus] of ['sim:1xT4-16GB', 'sim:1xL4-24GB'].entries()) {
      workers.push(gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', `w${i + 1}`, '--gpus', gpus], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken }));
    }
    await waitFor('two ready nodes', () => coordinator.registry.list().filter((n) => n.state === 'ready').length === 2, 30_000);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await coordinator?.stop();
    await cleanup?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const submit = async (source: string, sink: string, name: string): Promise<string> => {
    const doc = parseDocument(await readFile(PIPELINE, 'utf8'));
    doc.setIn(['metadata', 'name'], name);
    doc.setIn(['spec', 'source', 'path'], source);
    doc.setIn(['spec', 'sink', 'path'], sink);
    const res = await authedFetch(`${coordinator.httpUrl}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: doc.toString() });
    expect(res.status).toBe(201);
    return ((await res.json()) as { runId: string }).runId;
  };
  const view = async (runId: string): Promise<RunView> => (await (await authedFetch(`${coordinator.httpUrl}/v1/runs/${runId}`)).json()) as RunView;
  const logs = (): string => workers.map((w) => w.output().slice(-4000)).join('\n---\n');

  it('finishes the run with every item in the sink once, moves every replica off the node, and sends it no new ones', async () => {
    const sinkPath = join(dir, 'out', 'ocr.jsonl');
    const runId = await submit(dir, sinkPath, 'ocr-drain');

    // Mid-run: the models are up and items are flowing, but the sink does not have them all yet.
    const before = await waitFor('items flowing through detect', async () => {
      const v = await view(runId);
      if (FINAL.includes(v.status)) throw new Error(`the run ended before the drain: ${v.status} ${v.reason ?? ''}`);
      const flowing = (v.counters.detect?.completed ?? 0) > 0 && v.items.completed < IMAGES.length;
      return flowing && v.replicas.every((r) => r.phase === 'running') ? v : null;
    }, 240_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    const drained = before.replicas.find((r) => r.stage === 'detect')!.nodeId!;
    const other = drained === 'w1' ? 'w2' : 'w1';
    const held = before.replicas.filter((r) => r.nodeId === drained).map((r) => r.replicaId).sort();

    const cli = gridline(['drain', drained, '--coordinator-url', coordinator.httpUrl]);
    expect((await cli.exited).code, cli.output()).toBe(0);
    expect(cli.output()).toMatch(new RegExp(`node ${drained} draining: it takes no new replicas; its \\d+ replicas? moves? to other nodes`));
    expect(coordinator.registry.get(drained)?.state).toBe('draining');

    const end = await waitFor('the run to end', async () => {
      const v = await view(runId);
      return FINAL.includes(v.status) ? v : null;
    }, 240_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    expect(end.status, `${end.reason}\n${JSON.stringify(end.errors)}\n${logs()}`).toBe('succeeded');
    expect(end.items).toMatchObject({ total: IMAGES.length, completed: IMAGES.length, failed: 0 });

    const lines = (await readFile(sinkPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; key: string; run: string });
    expect(lines.map((l) => l.key).sort()).toEqual(IMAGES);
    expect(new Set(lines.map((l) => l.id)).size).toBe(IMAGES.length);
    expect(lines.every((l) => l.run === runId)).toBe(true);

    // The drained node was told to stop gently (its replicas reported draining), and ends holding nothing.
    expect(held.length).toBeGreaterThan(0);
    expect([...(phases.get(drained) ?? [])]).toContain('draining');
    await waitFor(`${drained} to report no replicas`, () => heartbeats.get(drained)?.length === 0, 30_000);
    const nodes = ((await (await authedFetch(`${coordinator.httpUrl}/v1/nodes`)).json()) as { nodes: NodeRecord[] }).nodes;
    expect(nodes.find((n) => n.id === drained)?.state).toBe('draining');
    expect(nodes.find((n) => n.id === other)?.state).toBe('ready');

    // A second run: every replica goes to the other node, even recognize's two that would spread.
    const second = await mkdtemp(join(tmpdir(), 'gl-drain-2-'));
    try {
      for (const name of IMAGES.slice(0, 2)) await copyFile(SAMPLE, join(second, name));
      const secondId = await submit(second, join(second, 'out.jsonl'), 'ocr-after-drain');
      const placed = await waitFor('the second run placed', async () => {
        const v = await view(secondId);
        return v.replicas.length > 0 && v.replicas.every((r) => r.nodeId !== null) ? v : null;
      }, 30_000, 100);
      expect(placed.replicas.map((r) => r.nodeId)).toEqual(placed.replicas.map(() => other));
      const done = await waitFor('the second run to end', async () => {
        const v = await view(secondId);
        return FINAL.includes(v.status) ? v : null;
      }, 240_000, 200);
      expect(done.status, `${done.reason}\n${logs()}`).toBe('succeeded');
      expect(heartbeats.get(drained)).toEqual([]);
    } finally {
      await rm(second, { recursive: true, force: true });
    }
  });

  it('answers 404 for an unknown node, and undrain makes the node ready again', async () => {
    const missing = await authedFetch(`${coordinator.httpUrl}/v1/nodes/nope/drain`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');

    const drained = coordinator.registry.list().find((n) => n.state === 'draining')?.id ?? 'w1';
    const res = await authedFetch(`${coordinator.httpUrl}/v1/nodes/${drained}/undrain`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node: NodeRecord }).node.state).toBe('ready');
  });
});

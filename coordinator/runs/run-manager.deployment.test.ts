import { describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { parseWorkload } from '../../common/pipeline/parse-pipeline.js';
import type { ReplicaSpec } from '../../common/replica-spec.js';
import type { RunRecord } from '../../common/run-types.js';
import type { CoordinatorMessage } from '../../proto/generated/gridline/cluster/v1/CoordinatorMessage.js';
import type { RunQueues } from '../queues/run-queues.js';
import { NodeRegistry } from '../registry/node-registry.js';
import { RunManager, type NodeChannel, type RunManagerSettings } from './run-manager.js';
import { memoryCoordinatorStore } from '../store/memory-coordinator-store.js';

const GiB = 2 ** 30;
const UNSCHEDULABLE_TIMEOUT_MS = 60_000;
const LOAD_ERROR = 'MODEL_LOAD_FAILED: cannot find x.onnx';

/* ---------------------------------------------------------------- documents */

interface DeploymentOptions {
  readonly name?: string;
  readonly model?: string;
  readonly version?: string;
  readonly replicas?: number;
}

function deployment({ name = 'orientation', model = 'cls', version = '3', replicas = 1 }: DeploymentOptions = {}) {
  return parseWorkload(`apiVersion: gridline/v1
kind: ModelDeployment
metadata:
  name: ${name}
spec:
  model:
    name: ${model}
    version: "${version}"
    runtime: onnx
    uri: "file:models/${model}.onnx"
  replicas: ${replicas}
`);
}

/** A pipeline whose model stage (model `m`, 2 replicas) is exposed online. */
function exposedPipeline() {
  return parseWorkload(`apiVersion: gridline/v1
kind: Pipeline
metadata:
  name: ocr
spec:
  source: { kind: files, path: ./data, glob: "*.png" }
  stages:
    - name: prep
      type: preprocessing
      ops:
        - image.decode
        - image.resize: { maxSide: 960 }
        - image.normalize: {}
    - name: model
      type: model-serving
      replicas: 2
      model: { name: m, runtime: onnx, uri: "file:m.onnx" }
      expose: true
  sink: { kind: jsonl, path: ./out.jsonl }
`);
}

/* ---------------------------------------------------------------- fakes */

const memoryStore = memoryCoordinatorStore;

interface QueueCall {
  readonly runId: string;
  readonly queues: readonly string[];
}

function recordingQueues(): RunQueues & { started: QueueCall[]; cleaned: QueueCall[] } {
  const started: QueueCall[] = [];
  const cleaned: QueueCall[] = [];
  return {
    started,
    cleaned,
    startSource: async (runId, queue) => {
      started.push({ runId, queues: [queue] });
    },
    cleanup: async (runId, queues) => {
      cleaned.push({ runId, queues });
    },
    close: async () => undefined,
  };
}

interface Sent {
  readonly nodeId: string;
  readonly message: CoordinatorMessage;
}

function recordingChannel(): NodeChannel & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    send: (nodeId, message) => {
      sent.push({ nodeId, message });
      return true;
    },
  };
}

/* ---------------------------------------------------------------- harness */

interface StartSeen {
  readonly nodeId: string;
  readonly replicaId: string;
  readonly kind: string;
  readonly spec: ReplicaSpec;
}

async function harness(nodeIds: readonly string[] = ['node-a', 'node-b']) {
  let now = Date.parse('2025-03-01T10:00:00.000Z');
  const clock = (): number => now;
  const store = memoryStore();
  const registry = new NodeRegistry(store, { heartbeatIntervalMs: 1_000, ttlMs: 3_000 }, silentLogger, clock);
  const queues = recordingQueues();
  const channel = recordingChannel();
  const settings: RunManagerSettings = {
    keyPrefix: 'gl',
    reconcileIntervalMs: 1_000,
    unschedulableTimeoutMs: UNSCHEDULABLE_TIMEOUT_MS,
    heartbeatIntervalMs: 1_000,
  };
  const manager = new RunManager(store, registry, queues, channel, settings, silentLogger, clock);

  async function addNode(id: string): Promise<void> {
    await registry.register({
      id, hostname: id, cpu: 4, memory: 8 * GiB, gpus: [], labels: {},
      agentVersion: 'test', inferenceAddress: `${id}:9100`, servedModels: [],
    });
    await registry.connected(id);
  }
  for (const id of nodeIds) await addNode(id);

  /** Every StartReplica sent, in order, with its spec parsed. */
  function starts(replicaId?: string): StartSeen[] {
    return channel.sent.flatMap(({ nodeId, message }) => {
      const s = message.start;
      if (!s || (replicaId !== undefined && s.replicaId !== replicaId)) return [];
      return [{ nodeId, replicaId: s.replicaId ?? '', kind: s.kind ?? '', spec: JSON.parse(s.specJson ?? '{}') as ReplicaSpec }];
    });
  }

  /** Every StopReplica sent, as node and replica. */
  function stops(replicaId?: string): { nodeId: string; replicaId: string }[] {
    return channel.sent.flatMap(({ nodeId, message }) => {
      const s = message.stop;
      if (!s || (replicaId !== undefined && s.replicaId !== replicaId)) return [];
      return [{ nodeId, replicaId: s.replicaId ?? '' }];
    });
  }

  /** Where a replica is bound now (null: unplaced). */
  async function nodeOf(runId: string, replicaId: string): Promise<string | null> {
    const replica = (await manager.view(runId)).replicas.find((r) => r.replicaId === replicaId);
    if (!replica) throw new Error(`no replica ${replicaId} in run ${runId}`);
    return replica.nodeId;
  }

  /** Reports a phase from the replica's current node and lets the reconcile pass it starts finish. */
  async function report(runId: string, replicaId: string, phase: 'running' | 'failed' | 'starting', message = ''): Promise<void> {
    const nodeId = await nodeOf(runId, replicaId);
    if (nodeId === null) throw new Error(`replica ${replicaId} is not placed`);
    manager.onReplicaState(nodeId, { replicaId, phase, message });
    await manager.reconcileNow();
  }

  return {
    manager, registry, queues, channel, addNode, starts, stops, nodeOf, report,
    now: () => now,
    advance(ms: number): void {
      now += ms;
    },
  };
}

/** The GridlineError a promise rejects with (fails the test when it fulfils). */
async function rejectionOf(work: Promise<unknown>): Promise<GridlineError> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(GridlineError);
    return err as GridlineError;
  }
  throw new Error('expected a rejection');
}

const replicaOf = (run: RunRecord, index: number, stage = 'serve'): string => `${run.id}.${stage}.${index}`;

/* ---------------------------------------------------------------- tests */

describe('RunManager: model deployments', () => {
  it('places a 2-replica deployment on two nodes, and runs it once a replica serves', async () => {
    const h = await harness(['node-a', 'node-b']);
    const run = await h.manager.submit(deployment({ model: 'cls', version: '3', replicas: 2 }));
    await h.manager.reconcileNow();

    const starts = h.starts();
    expect(starts.map((s) => s.replicaId).sort()).toEqual([replicaOf(run, 0), replicaOf(run, 1)]);
    expect(new Set(starts.map((s) => s.nodeId))).toEqual(new Set(['node-a', 'node-b']));
    for (const s of starts) {
      expect(s.kind).toBe('model-server');
      expect(s.spec.kind).toBe('model-server');
      expect(s.spec.runId).toBe(run.id);
      expect(s.spec.serving?.model).toEqual({ name: 'cls', version: '3', runtime: 'onnx', uri: 'file:models/cls.onnx' });
    }

    // Placed, loading, but nothing serves yet.
    expect(h.manager.getRun(run.id)?.status).toBe('pending');
    await h.report(run.id, replicaOf(run, 0), 'starting', 'loading model');
    await h.manager.reconcileNow();
    expect(h.manager.getRun(run.id)).toMatchObject({ status: 'pending', startedAt: null });
    expect((await h.manager.view(run.id)).serving).toEqual({ model: 'cls', version: '3', ready: 0, replicas: 2 });

    h.advance(5_000);
    await h.report(run.id, replicaOf(run, 0), 'running');
    await h.manager.reconcileNow();
    expect(h.manager.getRun(run.id)).toMatchObject({ status: 'running', startedAt: new Date(h.now()).toISOString() });
    expect((await h.manager.view(run.id)).serving).toEqual({ model: 'cls', version: '3', ready: 1, replicas: 2 });

    const byId = (list: ReturnType<RunManager['servingReplicas']>) => [...list].sort((a, b) => a.replicaId.localeCompare(b.replicaId));
    const nodeOf0 = starts.find((s) => s.replicaId === replicaOf(run, 0))!.nodeId;
    const nodeOf1 = starts.find((s) => s.replicaId === replicaOf(run, 1))!.nodeId;
    expect(byId(h.manager.servingReplicas())).toEqual([
      { replicaId: replicaOf(run, 0), nodeId: nodeOf0, model: 'cls', version: '3', running: true },
      { replicaId: replicaOf(run, 1), nodeId: nodeOf1, model: 'cls', version: '3', running: false },
    ]);

    await h.report(run.id, replicaOf(run, 1), 'running');
    expect((await h.manager.view(run.id)).serving).toEqual({ model: 'cls', version: '3', ready: 2, replicas: 2 });
    expect(byId(h.manager.servingReplicas()).map((r) => r.running)).toEqual([true, true]);

    // A deployment has no queues: no source job was ever started.
    expect(h.queues.started.filter((c) => c.runId === run.id)).toEqual([]);
    await h.manager.stop();
  });

  it('places one replica per node and never fails a deployment for being short of nodes', async () => {
    const h = await harness(['node-a']);
    const run = await h.manager.submit(deployment({ replicas: 2 }));
    await h.manager.reconcileNow();

    const starts = h.starts();
    expect(starts).toHaveLength(1);
    expect(starts[0]!.nodeId).toBe('node-a');
    const placed = starts[0]!.replicaId;
    const other = [replicaOf(run, 0), replicaOf(run, 1)].find((id) => id !== placed)!;
    expect(await h.nodeOf(run.id, other)).toBeNull();
    expect(h.manager.getRun(run.id)?.status).toBe('pending');
    expect(h.manager.getRun(run.id)?.reason).toMatch(/one per node/);

    await h.report(run.id, placed, 'running');
    expect(h.manager.getRun(run.id)?.status).toBe('running');
    expect(h.manager.getRun(run.id)?.reason).toMatch(/1 of 2 replicas ready.*one per node/);

    // Long past the timeout that fails an unschedulable pipeline.
    for (let i = 0; i < 3; i++) {
      h.advance(UNSCHEDULABLE_TIMEOUT_MS + 1_000);
      await h.manager.reconcileNow();
    }
    const after = h.manager.getRun(run.id);
    expect(after).toMatchObject({ status: 'running', finishedAt: null });
    expect(after?.reason).toMatch(/one per node/);
    expect(await h.nodeOf(run.id, other)).toBeNull();
    expect(h.starts()).toHaveLength(1);
    expect(h.stops()).toEqual([]);
    await h.manager.stop();
  });

  it('places a failed replica again with backoff, and fails a deployment that never served after 4 failures', async () => {
    const h = await harness(['node-a']);
    const run = await h.manager.submit(deployment({ replicas: 1 }));
    await h.manager.reconcileNow();
    const replica = replicaOf(run, 0);
    expect(h.starts(replica)).toHaveLength(1);

    await h.report(run.id, replica, 'failed', LOAD_ERROR);
    expect(h.stops(replica)).toEqual([{ nodeId: 'node-a', replicaId: replica }]);
    expect(await h.nodeOf(run.id, replica)).toBeNull();
    expect(h.manager.servingReplicas()).toEqual([]);
    expect(h.manager.getRun(run.id)?.status).toBe('pending');
    expect(h.manager.getRun(run.id)?.reason).toContain(LOAD_ERROR);

    // The first backoff is half a second.
    h.advance(100);
    await h.manager.reconcileNow();
    expect(await h.nodeOf(run.id, replica)).toBeNull();
    expect(h.starts(replica)).toHaveLength(1);
    h.advance(500);
    await h.manager.reconcileNow();
    expect(await h.nodeOf(run.id, replica)).toBe('node-a');
    expect(h.starts(replica)).toHaveLength(2);

    // Failures 2 and 3: placed again each time, after a longer wait; the deployment stays pending.
    for (const failure of [2, 3]) {
      await h.report(run.id, replica, 'failed', LOAD_ERROR);
      expect(h.manager.getRun(run.id)?.status).toBe('pending');
      expect(h.stops(replica)).toHaveLength(failure);
      expect(await h.nodeOf(run.id, replica)).toBeNull();
      h.advance(30_000);
      await h.manager.reconcileNow();
      expect(h.starts(replica)).toHaveLength(failure + 1);
    }

    await h.report(run.id, replica, 'failed', LOAD_ERROR);
    const failed = h.manager.getRun(run.id);
    expect(failed?.status).toBe('failed');
    expect(failed?.finishedAt).toBe(new Date(h.now()).toISOString());
    expect(failed?.reason).toContain('failed 4 times');
    expect(failed?.reason).toContain(LOAD_ERROR);
    expect(h.stops(replica)).toHaveLength(4);
    expect(h.manager.servingReplicas()).toEqual([]);

    // Ended: nothing is placed again.
    h.advance(60_000);
    await h.manager.reconcileNow();
    expect(h.starts(replica)).toHaveLength(4);
    expect(h.queues.cleaned).toEqual([]);
    await h.manager.stop();
  });

  it('keeps a deployment that has served running while another replica keeps failing, backoff capped at 30 s', async () => {
    const h = await harness(['node-a', 'node-b']);
    const run = await h.manager.submit(deployment({ replicas: 2 }));
    await h.manager.reconcileNow();
    const good = replicaOf(run, 0);
    const bad = replicaOf(run, 1);
    await h.report(run.id, good, 'running');
    expect(h.manager.getRun(run.id)?.status).toBe('running');
    const goodNode = await h.nodeOf(run.id, good);

    // Backoffs 0.5 s, 1 s, 2 s, ... 16 s, then 30 s (not 32 s, 64 s).
    for (let failure = 1; failure <= 8; failure++) {
      await h.report(run.id, bad, 'failed', `${LOAD_ERROR} (#${failure})`);
      expect(h.manager.getRun(run.id)).toMatchObject({ status: 'running', finishedAt: null });
      expect(await h.nodeOf(run.id, bad)).toBeNull();
      expect(h.stops(bad)).toHaveLength(failure);

      const backoff = Math.min(30_000, 500 * 2 ** (failure - 1));
      h.advance(backoff - 1);
      await h.manager.reconcileNow();
      expect(await h.nodeOf(run.id, bad), `failure ${failure}: placed before its backoff`).toBeNull();
      h.advance(1);
      await h.manager.reconcileNow();
      expect(await h.nodeOf(run.id, bad), `failure ${failure}: not placed within 30 s`).not.toBeNull();
      expect(h.starts(bad)).toHaveLength(failure + 1);
    }

    // The serving replica was never touched.
    expect(h.stops(good)).toEqual([]);
    expect(await h.nodeOf(run.id, good)).toBe(goodNode);
    expect((await h.manager.view(run.id)).serving).toMatchObject({ ready: 1, replicas: 2 });
    await h.manager.stop();
  });

  it('serves one model name with one workload at a time', async () => {
    const h = await harness(['node-a', 'node-b']);
    const first = await h.manager.submit(deployment({ name: 'first', model: 'cls', version: '1' }));

    for (const version of ['1', '2']) {
      const err = await rejectionOf(h.manager.submit(deployment({ name: 'second', model: 'cls', version })));
      expect(err.code).toBe('CONFLICT');
      expect(err.message).toContain(first.id);
      expect(err.details).toEqual({ model: 'cls', servedBy: first.id });
    }

    // Two submits at once: the first one claims the name before it awaits anything.
    const raced = await Promise.allSettled([
      h.manager.submit(deployment({ name: 'race-a', model: 'det' })),
      h.manager.submit(deployment({ name: 'race-b', model: 'det' })),
    ]);
    expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = raced.find((r) => r.status === 'rejected');
    expect((refused?.reason as GridlineError).code).toBe('CONFLICT');
    expect(h.manager.listRuns().filter((r) => r.spec.kind === 'ModelDeployment' && r.spec.model.name === 'det')).toHaveLength(1);

    await h.manager.cancel(first.id);
    const again = await h.manager.submit(deployment({ name: 'second', model: 'cls', version: '2' }));
    expect(again.status).toBe('pending');
    expect(again.id).not.toBe(first.id);
    await h.manager.stop();
  });

  it('serves the exposed model stage of a pipeline and refuses a deployment of the same model', async () => {
    const h = await harness([]);
    const run = await h.manager.submit(exposedPipeline());
    await h.manager.reconcileNow();
    expect(h.queues.started).toEqual([{ runId: run.id, queues: [run.stages[0]!.queue] }]);
    // No node yet: nothing placed, nothing served.
    expect(h.manager.servingReplicas()).toEqual([]);

    await h.addNode('node-a');
    await h.manager.reconcileNow();
    expect(h.manager.getRun(run.id)?.status).toBe('running');

    const modelReplicas = [replicaOf(run, 0, 'model'), replicaOf(run, 1, 'model')];
    for (const s of h.starts()) {
      if (modelReplicas.includes(s.replicaId)) {
        expect(s.kind).toBe('model-serving');
        expect(s.spec.serving?.model).toEqual({ name: 'm', version: '1', runtime: 'onnx', uri: 'file:m.onnx' });
      } else {
        expect(s.spec.serving).toBeNull();
      }
    }
    expect(h.starts().map((s) => s.replicaId)).toEqual(expect.arrayContaining(modelReplicas));
    expect([...h.manager.servingReplicas()].sort((a, b) => a.replicaId.localeCompare(b.replicaId))).toEqual(
      modelReplicas.map((replicaId) => ({ replicaId, nodeId: 'node-a', model: 'm', version: '1', running: false })),
    );

    const err = await rejectionOf(h.manager.submit(deployment({ model: 'm', version: '1' })));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain(run.id);
    expect(h.manager.listRuns()).toHaveLength(1);
    await h.manager.stop();
  });

  it('cancels a deployment: stops its replicas, serves nothing, and schedules no queue cleanup', async () => {
    const h = await harness(['node-a', 'node-b']);
    const run = await h.manager.submit(deployment({ replicas: 2 }));
    await h.manager.reconcileNow();
    await h.report(run.id, replicaOf(run, 0), 'running');
    const placed = h.starts().map((s) => ({ nodeId: s.nodeId, replicaId: s.replicaId }));
    expect(placed).toHaveLength(2);
    expect(h.manager.servingReplicas()).toHaveLength(2);

    const cancelled = await h.manager.cancel(run.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'cancelled by request' });
    expect(h.manager.getRun(run.id)?.status).toBe('cancelled');
    const byReplica = (a: { replicaId: string }, b: { replicaId: string }) => a.replicaId.localeCompare(b.replicaId);
    expect(h.stops().sort(byReplica)).toEqual(placed.sort(byReplica));
    expect(h.manager.servingReplicas()).toEqual([]);
    expect((await h.manager.view(run.id)).replicas).toEqual([]);

    await h.manager.reconcileNow();
    await h.manager.stop();
    expect(h.queues.cleaned).toEqual([]);
    expect(h.starts()).toHaveLength(2);
  });
});

describe('RunManager: a deployment replica with no node of its own', () => {
  it('takes no capacity from other work while it waits for a node', async () => {
    const h = await harness(['node-a']);
    const wide = parseWorkload(`apiVersion: gridline/v1
kind: ModelDeployment
metadata: { name: wide }
spec:
  model: { name: wide, runtime: onnx, uri: "file:w.onnx" }
  replicas: 2
  resources: { cpu: 2 }
`);
    const small = parseWorkload(`apiVersion: gridline/v1
kind: Pipeline
metadata: { name: small }
spec:
  source: { kind: files, path: ./data, glob: "*.png" }
  stages:
    - name: prep
      type: preprocessing
      ops: [ image.decode ]
  sink: { kind: jsonl, path: ./out.jsonl }
`);
    const deployed = await h.manager.submit(wide);
    const run = await h.manager.submit(small);
    // The pass submit started may predate the pipeline: run one that sees it.
    await h.manager.reconcileNow();
    await h.manager.reconcileNow();
    // node-a has 4 cores: one deployment replica (2) and the pipeline (0.6) both fit.
    expect((await h.manager.view(deployed.id)).replicas.filter((r) => r.nodeId !== null)).toHaveLength(1);
    const placed = (await h.manager.view(run.id)).replicas;
    expect(placed.map((r) => [r.replicaId.split(".").slice(1).join("."), r.nodeId])).toEqual([["source.0", "node-a"], ["prep.0", "node-a"], ["sink.0", "node-a"]]);
    h.advance(UNSCHEDULABLE_TIMEOUT_MS + 1_000);
    await h.manager.reconcileNow();
    expect(h.manager.getRun(run.id)?.status).not.toBe('failed');
  });
});

describe('RunManager: a started run that loses room for some replicas', () => {
  it('keeps going while every stage has a replica, and says it runs short', async () => {
    const h = await harness(['node-a', 'node-b']);
    const wide = parseWorkload(`apiVersion: gridline/v1
kind: Pipeline
metadata: { name: wide }
spec:
  source: { kind: files, path: ./data, glob: "*.png" }
  stages:
    - name: prep
      type: preprocessing
      replicas: 2
      resources: { cpu: 3 }
      ops: [ image.decode ]
  sink: { kind: jsonl, path: ./out.jsonl }
`);
    const run = await h.manager.submit(wide);
    await h.manager.reconcileNow();
    await h.manager.reconcileNow();
    expect(h.manager.getRun(run.id)?.status).toBe('running');
    // node-b goes silent and is marked lost: its prep replica fits nowhere (node-a has 1 core free).
    h.advance(1_000);
    h.registry.heartbeat('node-a');
    h.advance(3_500);
    h.registry.heartbeat('node-a');
    h.registry.sweep();
    await h.manager.reconcileNow();
    h.advance(UNSCHEDULABLE_TIMEOUT_MS + 1_000);
    h.registry.heartbeat('node-a');
    await h.manager.reconcileNow();
    const now = h.manager.getRun(run.id);
    expect(now?.status).toBe('running');
    expect(now?.reason).toMatch(/running short: 1 replica waiting for room \(stage prep/);
  });
});

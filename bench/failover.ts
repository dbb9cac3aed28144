/**
 * failover: time from SIGKILL of a worker to its replicas running elsewhere, in heartbeat
 * intervals (target ≤ 5: marked lost within 3, running on another node within 2 more;
 * ../shared/design/PERFORMANCE.md). There is no baseline: the target is absolute.
 *
 * A coordinator in this process (heartbeat 500 ms, TTL 2.5 intervals), three worker processes
 * (`gridline worker --gpus none`, as a user starts them), and a ModelDeployment of a tiny ONNX
 * model (add-one, x f32[N,16]) with 2 replicas: one node per replica, and a spare. Each
 * repetition waits a random fraction of an interval (the kill falls anywhere in the heartbeat
 * cycle), SIGKILLs a worker that holds a running replica, and times, from the kill:
 *  - lost: the registry's `lost` event for the node (in this process: exact); also the first
 *    GET /v1/nodes poll that lists it lost;
 *  - placed: the first GET /v1/runs/:id poll (every 20 ms) that shows the replica bound to another node;
 *  - running: the first poll that shows it `running` there (the model loaded and warmed up: only
 *    then does a serving replica report running, and routes send it requests).
 * Detect = lost; re-place = placed − lost; start = running − placed. Before the next repetition a
 * fresh worker process is started, so there is always a spare node that has never loaded the model.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { createLogger } from '../cli/create-logger.js';
import { CoordinatorClient } from '../cli/coordinator-client.js';
import { spawnWorkerProcess, stopChild } from '../cli/worker-process.js';
import type { NodeRecord, RunView } from '../common/run-types.js';
import type { RunningCoordinator } from '../coordinator/coordinator.js';
import {
  benchPrefix, deletePrefix, median, once, procMemory, REDIS_URL, removeTmp, selfPeakRssBytes, sleep,
  type BenchDefinition, type ProcessPeak, type SideContext, type SideSession,
} from './harness.js';
import { TINY_MODEL } from './inference-models.js';
import { BENCH_ADMIN_KEY } from './bench-auth.js';

const HEARTBEAT_MS = 500;
const WORKERS = 3;
const REPLICAS = 2;
const POLL_MS = 20;
/** Targets, in heartbeat intervals. */
const LOST_WITHIN = 3;
const RUNNING_WITHIN_MORE = 2;

interface RepTiming {
  readonly victim: string;
  readonly replicaId: string;
  readonly movedTo: string;
  /** Delay before the kill, a random fraction of an interval. */
  readonly phaseMs: number;
  readonly lostMs: number;
  /** The node's silence when the registry declared it lost (since its last heartbeat). */
  readonly silentMs: number;
  readonly lostApiMs: number | null;
  readonly placedMs: number;
  readonly runningMs: number;
}

function deploymentYaml(modelPath: string): string {
  return stringify({
    apiVersion: 'gridline/v1',
    kind: 'ModelDeployment',
    metadata: { name: 'failover-bench' },
    spec: {
      model: { name: 'failover-add-one', version: '1', runtime: 'onnx', uri: modelPath },
      replicas: REPLICAS,
      resources: { cpu: 0.25, memory: '128Mi' },
      warmUp: { shapes: { x: [1, 16] } },
    },
  });
}

const iv = (ms: number): string => `${(ms / HEARTBEAT_MS).toFixed(2)} iv`;

async function gridline(ctx: SideContext): Promise<SideSession> {
  const tmp = await mkdtemp(join(tmpdir(), 'glbench-failover-'));
  const prefix = benchPrefix('failover');
  const logDir = join(tmp, 'logs');
  await mkdir(logDir, { recursive: true });
  // Loaded here so that only this side's process carries the coordinator.
  const { startCoordinator } = await import('../coordinator/coordinator.js');
  const logger = createLogger({ name: 'bench-coordinator', format: 'json', destination: createWriteStream(join(logDir, 'coordinator.log'), { flags: 'a' }) });
  let coordinator: RunningCoordinator | null = null;
  const workers = new Map<string, ChildProcess>();
  const logs: string[] = [];
  const lastPeak = new Map<string, ProcessPeak>();
  const peaks = (): ProcessPeak[] => {
    for (const [id, child] of workers) {
      const mem = child.pid === undefined ? null : procMemory(child.pid);
      if (mem !== null && child.pid !== undefined) lastPeak.set(id, { name: `worker ${id}`, pid: child.pid, peakRssBytes: mem.peakRssBytes });
    }
    return [{ name: 'coordinator (+ bench driver)', pid: process.pid, peakRssBytes: selfPeakRssBytes() }, ...lastPeak.values()];
  };
  const close = once(async () => {
    peaks();
    await Promise.all([...workers.values()].map((w) => stopChild(w, 5_000)));
    await coordinator?.stop().catch((err: unknown) => ctx.log(`coordinator stop failed: ${(err as Error).message}`));
    await deletePrefix(prefix).catch((err: unknown) => ctx.log(`deleting keys failed: ${(err as Error).message}`));
    await removeTmp(tmp, ctx);
  });

  try {
    const started = performance.now();
    const c = await startCoordinator({ adminKey: BENCH_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: prefix, httpPort: 0, grpcPort: 0, heartbeatIntervalMs: HEARTBEAT_MS, allowedDirs: [tmp] }, logger);
    coordinator = c;
    const client = new CoordinatorClient(c.httpUrl, BENCH_ADMIN_KEY);
    const lostAt = new Map<string, { at: number; silentMs: number }>();
    c.registry.on('lost', (node, silentMs) => lostAt.set(node.id, { at: performance.now(), silentMs }));

    let nextWorker = 1;
    const live = (): string[] => [...workers].filter(([, w]) => w.exitCode === null && w.signalCode === null).map(([id]) => id);
    const startWorkers = async (n: number): Promise<void> => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = `failover-w${nextWorker++}`;
        const logFile = join(logDir, `${id}.log`);
        logs.push(logFile);
        workers.set(id, spawnWorkerProcess({ coordinator: c.grpcAddress, joinToken: c.joinToken, nodeId: id, gpus: 'none', allowedDirs: [tmp], logFile }));
        ids.push(id);
      }
      ctx.reportPids([...workers.values()].flatMap((w) => (w.pid === undefined ? [] : [w.pid])));
      const deadline = performance.now() + 90_000;
      while (!ids.every((id) => c.registry.get(id)?.state === 'ready')) {
        ctx.signal.throwIfAborted();
        const dead = ids.find((id) => workers.get(id)!.exitCode !== null);
        if (dead !== undefined) throw new Error(`worker ${dead} exited before registering (log: ${join(logDir, `${dead}.log`)})`);
        if (performance.now() > deadline) throw new Error(`workers ${ids.join(', ')} not ready within 90 s (logs: ${logs.join(', ')})`);
        await sleep(50, ctx.signal);
      }
    };
    await startWorkers(WORKERS);
    const modelPath = await TINY_MODEL.file(tmp);
    const { runId } = await client.request<{ runId: string }>('POST', '/v1/pipelines', { text: deploymentYaml(modelPath), contentType: 'application/yaml' });
    const view = (): Promise<RunView> => client.request<RunView>('GET', `/v1/runs/${runId}`);
    const servingBy = performance.now() + 90_000;
    for (;;) {
      const v = await view();
      if (v.status === 'failed') throw new Error(`deployment ${runId} failed: ${v.reason ?? ''} (logs: ${logs.join(', ')})`);
      if (v.replicas.filter((r) => r.phase === 'running').length === REPLICAS) break;
      if (performance.now() > servingBy) throw new Error(`deployment ${runId} not serving on ${REPLICAS} replicas within 90 s: ${v.reason ?? ''} (logs: ${logs.join(', ')})`);
      await sleep(100, ctx.signal);
    }
    ctx.log(`coordinator (heartbeat ${HEARTBEAT_MS} ms), ${WORKERS} workers and deployment ${runId} (${REPLICAS} replicas) up in ${Math.round(performance.now() - started)} ms; logs in ${logDir}`);

    const timings: RepTiming[] = [];
    return {
      close,
      async rep(index, warm) {
        // A spare node that has never served the model, so the moved replica loads it from scratch.
        const v0 = await view();
        const holders = new Set(v0.replicas.flatMap((r) => (r.nodeId === null ? [] : [r.nodeId])));
        const spares = live().filter((id) => !holders.has(id) && c.registry.get(id)?.state === 'ready');
        if (spares.length === 0) await startWorkers(1);
        const candidates = v0.replicas.filter((r) => r.phase === 'running' && r.nodeId !== null && live().includes(r.nodeId));
        if (candidates.length === 0) throw new Error(`no running replica on a live worker to kill (${v0.replicas.map((r) => `${r.replicaId}@${r.nodeId}:${r.phase}`).join(', ')})`);
        const target = candidates[index % candidates.length]!;
        const victim = target.nodeId!;
        const child = workers.get(victim)!;
        const phaseMs = Math.random() * HEARTBEAT_MS;
        await sleep(phaseMs, ctx.signal);
        peaks(); // its last peak RSS, before it goes
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        const t0 = performance.now();
        child.kill('SIGKILL');
        let lostApiMs: number | null = null;
        let placedMs: number | null = null;
        let runningMs: number | null = null;
        let movedTo = '';
        const deadline = t0 + 60_000;
        while (runningMs === null || lostApiMs === null) {
          ctx.signal.throwIfAborted();
          if (performance.now() > deadline) {
            throw new Error(`replica ${target.replicaId} of killed node ${victim} not running elsewhere within 60 s (lost ${lostAt.has(victim)}, placed ${placedMs}; logs: ${logs.join(', ')})`);
          }
          const [v, nodes] = await Promise.all([view(), client.request<{ nodes: NodeRecord[] }>('GET', '/v1/nodes')]);
          const at = performance.now() - t0;
          if (lostApiMs === null && nodes.nodes.find((n) => n.id === victim)?.state === 'lost') lostApiMs = at;
          const r = v.replicas.find((x) => x.replicaId === target.replicaId);
          if (r !== undefined && r.nodeId !== null && r.nodeId !== victim) {
            placedMs ??= at;
            movedTo = r.nodeId;
            if (r.phase === 'running') runningMs ??= at;
          }
          if (runningMs === null || lostApiMs === null) await sleep(POLL_MS, ctx.signal);
        }
        await exited;
        const lost = lostAt.get(victim);
        if (lost === undefined) throw new Error(`node ${victim} shows lost in GET /v1/nodes but the registry emitted no 'lost' event`);
        const t: RepTiming = {
          victim, replicaId: target.replicaId, movedTo, phaseMs: Math.round(phaseMs), lostMs: lost.at - t0, silentMs: lost.silentMs,
          lostApiMs, placedMs: placedMs!, runningMs,
        };
        if (!warm) timings.push(t);
        ctx.log(`${warm ? 'warm-up' : `rep ${index}`}: killed ${victim}; lost at ${t.lostMs.toFixed(0)} ms (${iv(t.lostMs)}; silent ${t.silentMs} ms), ` +
          `${t.replicaId} placed on ${movedTo} at ${t.placedMs.toFixed(0)} ms, running at ${t.runningMs.toFixed(0)} ms (${iv(t.runningMs)}; ` +
          `re-place ${(t.placedMs - t.lostMs).toFixed(0)} ms, start ${(t.runningMs - t.placedMs).toFixed(0)} ms)`);
        return t.runningMs;
      },
      async finish() {
        const processes = peaks();
        await close();
        const m = (f: (t: RepTiming) => number): number => median(timings.map(f));
        const lostMs = m((t) => t.lostMs);
        const replaceMs = m((t) => t.placedMs - t.lostMs);
        const startMs = m((t) => t.runningMs - t.placedMs);
        const afterLostMs = m((t) => t.runningMs - t.lostMs);
        const totalMs = m((t) => t.runningMs);
        const lostApiMs = median(timings.flatMap((t) => (t.lostApiMs === null ? [] : [t.lostApiMs])));
        return {
          label: `SIGKILL of a worker process (1 of ${WORKERS} + a fresh spare) holding 1 of ${REPLICAS} replicas of a ModelDeployment (tiny ONNX add-one model); ` +
            `coordinator in-process, heartbeat ${HEARTBEAT_MS} ms (TTL ${Math.round(HEARTBEAT_MS * 2.5)} ms); kill → replica \`running\` on another node (GET /v1/runs/:id every ${POLL_MS} ms). ` +
            `Medians: total ${totalMs.toFixed(0)} ms = ${iv(totalMs)}; detect (kill → lost) ${lostMs.toFixed(0)} ms = ${iv(lostMs)}; ` +
            `re-place ${replaceMs.toFixed(0)} ms + start (model load, warm-up, report) ${startMs.toFixed(0)} ms = ${iv(afterLostMs)} after lost`,
          unit: 'ms',
          higherIsBetter: false,
          processes,
          details: {
            heartbeatMs: HEARTBEAT_MS, workers: WORKERS, replicas: REPLICAS, pollMs: POLL_MS,
            medians: {
              totalMs, totalIntervals: totalMs / HEARTBEAT_MS, lostMs, lostIntervals: lostMs / HEARTBEAT_MS, lostApiMs,
              replaceMs, startMs, afterLostMs, afterLostIntervals: afterLostMs / HEARTBEAT_MS,
            },
            reps: timings,
          },
        };
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const failoverBench: BenchDefinition = {
  name: 'failover',
  description: `SIGKILL of a worker → its replica running on another node (heartbeat ${HEARTBEAT_MS} ms)`,
  target: {
    text: `≤ ${LOST_WITHIN + RUNNING_WITHIN_MORE} intervals (${(LOST_WITHIN + RUNNING_WITHIN_MORE) * HEARTBEAT_MS} ms): lost ≤ ${LOST_WITHIN}, running ≤ ${RUNNING_WITHIN_MORE} more`,
    check: ({ gridline: g }) => {
      if (g === null) return null;
      const m = (g.details as { medians?: { lostIntervals?: number; afterLostIntervals?: number } }).medians;
      if (m?.lostIntervals === undefined || m.afterLostIntervals === undefined) return null;
      return m.lostIntervals <= LOST_WITHIN && m.afterLostIntervals <= RUNNING_WITHIN_MORE && g.median <= (LOST_WITHIN + RUNNING_WITHIN_MORE) * HEARTBEAT_MS;
    },
  },
  sides: { gridline },
  rounds: (o) => (o.quick ? { warmup: 0, reps: 2 } : { warmup: 0, reps: 5 }),
  timeoutMs: (o) => (o.quick ? 150_000 : 360_000),
};

/**
 * coordinator-heartbeats: the coordinator's CPU while 1,000 simulated worker nodes heartbeat
 * once a second (target ≤ 10 % of one core, ../shared/design/PERFORMANCE.md). There is no
 * baseline: the target is absolute, as for the placement bench.
 *
 * The coordinator runs as a user runs it, a process of its own (`gridline coordinator`, log level
 * info, JSON logs to a file, heartbeat 1 s), on the shared Redis under a key prefix of its own.
 * Two load processes (bench/heartbeat-load.ts) hold 500 nodes each, every node on its own gRPC
 * channel and TCP connection, speaking proto/cluster.proto as worker-node/control/control-client.ts
 * does (Register, then the Connect stream with heartbeats at the interval the coordinator sets,
 * ±10 % jitter, carrying the node's replica states).
 *
 * The nodes first heartbeat with no replicas (one window, the idle figure, kept in the details);
 * then 8 pipelines of 6 stages × 64 replicas are submitted, ~3 replicas per node, which the
 * nodes report running in every heartbeat, while the coordinator's reconcile loop (every 250 ms)
 * reads each run's counters from Redis. Each repetition is one steady window: CPU from
 * /proc/<pid>/stat (utime + stime, all threads) of the coordinator and of each load process.
 * After each window GET /v1/nodes must list all 1,000 nodes `ready` (a node that missed its TTL
 * in the window would be `lost`: load processes do not reconnect), or the repetition fails.
 *
 * BENCH_CPU_PROF=<dir> starts the coordinator with --cpu-prof, its profile written to <dir> when it
 * stops (open it in Chrome DevTools or speedscope to see where the CPU goes).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { CoordinatorClient } from '../cli/coordinator-client.js';
import { GRIDLINE_BIN, stopChild } from '../cli/worker-process.js';
import type { NodeRecord, RunView } from '../common/run-types.js';
import {
  benchPrefix, deletePrefix, median, once, procMemory, REDIS_URL, removeTmp, selfPeakRssBytes, sleep,
  type BenchDefinition, type BenchOptions, type ProcessPeak, type SideContext, type SideSession,
} from './harness.js';
import type { LoadRequest, LoadStats, LoadToParent, ParentToLoad } from './heartbeat-load.js';
import { CpuWindow, loadAverage1, procCpuSeconds } from './proc-cpu.js';
import { BENCH_ADMIN_KEY } from './bench-auth.js';

const NODES = 1_000;
const LOAD_PROCESSES = 2;
const HEARTBEAT_MS = 1_000;
const TARGET_PERCENT = 10;
/** The workload the nodes report: PIPELINES × STAGES × REPLICAS preprocessing replicas (+ a source and a sink each). */
const PIPELINES = 8;
const STAGES = 6;
const REPLICAS = 64;
const LOAD_ENTRY = fileURLToPath(new URL('./heartbeat-load.ts', import.meta.url));

function windowMs(options: BenchOptions): number {
  return options.quick ? 10_000 : 30_000;
}

/** `gridline coordinator` as a process; resolves with its ports and join token from its `listening` line. */
async function startCoordinatorProcess(prefix: string, logFile: string, ctx: SideContext): Promise<{ child: ChildProcess; http: number; grpc: number; joinToken: string }> {
  const log = createWriteStream(logFile, { flags: 'a' });
  const profDir = process.env.BENCH_CPU_PROF;
  const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profDir)}`] : [];
  const child = spawn(process.execPath, [
    ...nodeArgs, GRIDLINE_BIN, 'coordinator', '--redis-url', REDIS_URL, '--key-prefix', prefix,
    '--http-port', '0', '--grpc-port', '0', '--heartbeat-ms', String(HEARTBEAT_MS), '--allow-dir', tmpdir(),
  ], { env: { ...process.env, GRIDLINE_LOG_FORMAT: 'json', GRIDLINE_LOG_LEVEL: process.env.GRIDLINE_LOG_LEVEL ?? 'info', GRIDLINE_ADMIN_KEY: BENCH_ADMIN_KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.pipe(log);
  if (child.pid !== undefined) ctx.reportPids([child.pid]);
  if (profDir) ctx.log(`coordinator CPU profile goes to ${resolve(profDir)} when it stops`);
  return new Promise((resolvePorts, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`the coordinator printed no listening line within 60 s (log: ${logFile})`)), 60_000);
    child.once('exit', (code, signal) => reject(new Error(`the coordinator exited (code ${code}, signal ${signal}) before listening (log: ${logFile})`)));
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      try {
        const e = JSON.parse(line) as { event?: unknown; http?: unknown; grpc?: unknown; joinToken?: unknown };
        if (e.event === 'listening' && typeof e.http === 'number' && typeof e.grpc === 'number' && typeof e.joinToken === 'string') {
          clearTimeout(timer);
          resolvePorts({ child, http: e.http, grpc: e.grpc, joinToken: e.joinToken });
        }
      } catch {
        // not an event line
      }
    });
  });
}

/** One load process (bench/heartbeat-load.ts) and its IPC. */
class LoadProcess {
  private readonly waiters = new Map<LoadToParent['type'], ((m: LoadToParent) => void)[]>();
  private readonly pending = new Set<(err: Error) => void>();
  private connectedMs: number | null = null;
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  constructor(readonly name: string, readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const m = raw as LoadToParent;
      if (m.type === 'error') this.fail(new Error(`${name}: ${m.message}`));
      if (m.type === 'connected') this.connectedMs = m.ms;
      const list = this.waiters.get(m.type) ?? [];
      this.waiters.delete(m.type);
      for (const w of list) w(m);
    });
    this.exited = new Promise((done) => child.once('exit', (code, signal) => {
      this.fail(new Error(`${name} exited (code ${code}, signal ${signal})`));
      done();
    }));
  }

  static start(name: string, request: LoadRequest): LoadProcess {
    // execArgv carries `--import tsx` from the side process.
    return new LoadProcess(name, fork(LOAD_ENTRY, [JSON.stringify(request)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  /** Milliseconds the process took to register and connect all its nodes. */
  async connected(timeoutMs: number): Promise<number> {
    if (this.connectedMs !== null) return this.connectedMs;
    const m = await this.next('connected', null, timeoutMs);
    return m.type === 'connected' ? m.ms : Number.NaN;
  }

  async stats(): Promise<LoadStats> {
    const m = await this.next('stats', { type: 'stats' }, 10_000);
    if (m.type !== 'stats') throw new Error(`${this.name}: unexpected answer ${m.type}`);
    return m.stats;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies ParentToLoad);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  private next(type: LoadToParent['type'], ask: ParentToLoad | null, timeoutMs: number): Promise<LoadToParent> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolveMsg, reject) => {
      const onFail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      const timer = setTimeout(() => {
        this.pending.delete(onFail);
        reject(new Error(`${this.name}: no '${type}' answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.add(onFail);
      const list = this.waiters.get(type) ?? [];
      list.push((m) => {
        clearTimeout(timer);
        this.pending.delete(onFail);
        resolveMsg(m);
      });
      this.waiters.set(type, list);
      if (ask !== null) this.child.send(ask);
    });
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const reject of this.pending) reject(err);
    this.pending.clear();
  }
}

function workloadYaml(index: number): string {
  const stage = (s: number): unknown => ({
    name: `s${s}`, type: 'preprocessing', replicas: REPLICAS,
    resources: { cpu: 0.1, memory: '64Mi' },
    ops: [{ 'fields.drop': { fields: ['file'] } }],
  });
  return stringify({
    apiVersion: 'gridline/v1',
    kind: 'Pipeline',
    metadata: { name: `heartbeat-load-${index}` },
    spec: {
      // Nothing runs it: the simulated nodes only report their replicas running.
      source: { kind: 'files', path: join(tmpdir(), 'glbench-heartbeats-nonexistent'), glob: '*.bin' },
      stages: Array.from({ length: STAGES }, (_, s) => stage(s + 1)),
      sink: { kind: 'jsonl', path: join(tmpdir(), 'glbench-heartbeats-nonexistent', `out-${index}.jsonl`) },
    },
  });
}

interface WindowFigures {
  readonly coordinatorPercent: number;
  /** The coordinator's share in the kernel (socket reads and writes, epoll). */
  readonly coordinatorSysPercent: number;
  /** The busiest second of the window (coordinator). */
  readonly coordinatorPeakSecondPercent: number;
  readonly loadPercent: readonly number[];
  readonly heartbeatsPerSecond: number;
  readonly replicasReported: number;
  readonly nodesReady: number;
  readonly loadAverage1: number;
  readonly wallMs: number;
}

async function gridline(ctx: SideContext): Promise<SideSession> {
  const tmp = await mkdtemp(join(tmpdir(), 'glbench-heartbeats-'));
  const prefix = benchPrefix('heartbeats');
  const logDir = join(tmp, 'logs');
  await mkdir(logDir, { recursive: true });
  const coordinatorLog = join(logDir, 'coordinator.log');
  let coordinator: ChildProcess | null = null;
  const loads: LoadProcess[] = [];
  const lastPeak = new Map<string, ProcessPeak>();
  const peaks = (): ProcessPeak[] => {
    const all: { name: string; child: ChildProcess | null }[] = [{ name: 'coordinator (gridline coordinator)', child: coordinator }, ...loads.map((l) => ({ name: l.name, child: l.child }))];
    for (const { name, child } of all) {
      const mem = child?.pid === undefined ? null : procMemory(child.pid);
      if (mem !== null && child?.pid !== undefined) lastPeak.set(name, { name, pid: child.pid, peakRssBytes: mem.peakRssBytes });
    }
    return [...all.flatMap(({ name }) => lastPeak.get(name) ?? []), { name: 'bench driver', pid: process.pid, peakRssBytes: selfPeakRssBytes() }];
  };
  const close = once(async () => {
    peaks();
    await Promise.all(loads.map((l) => l.stop().catch(() => undefined)));
    if (coordinator !== null) await stopChild(coordinator, 10_000);
    await deletePrefix(prefix).catch((err: unknown) => ctx.log(`deleting keys failed: ${(err as Error).message}`));
    await removeTmp(tmp, ctx);
  });

  try {
    const started = performance.now();
    const c = await startCoordinatorProcess(prefix, coordinatorLog, ctx);
    coordinator = c.child;
    const coordinatorPid = c.child.pid!;
    const client = new CoordinatorClient(`http://127.0.0.1:${c.http}`, BENCH_ADMIN_KEY, 60_000);
    ctx.log(`coordinator pid ${coordinatorPid} up in ${Math.round(performance.now() - started)} ms (http ${c.http}, grpc ${c.grpc}, prefix ${prefix}, log ${coordinatorLog})`);

    const perLoad = Math.ceil(NODES / LOAD_PROCESSES);
    for (let p = 0; p < LOAD_PROCESSES; p++) {
      const ids = Array.from({ length: Math.min(perLoad, NODES - p * perLoad) }, (_, i) => `sim-${String(p * perLoad + i).padStart(4, '0')}`);
      loads.push(LoadProcess.start(`load process ${p + 1} (${ids.length} nodes)`, {
        coordinator: `127.0.0.1:${c.grpc}`, joinToken: c.joinToken, nodeIds: ids, cpu: 16, memoryBytes: 64 * 2 ** 30, concurrency: 16,
      }));
    }
    ctx.reportPids(loads.flatMap((l) => (l.child.pid === undefined ? [] : [l.child.pid])));
    const connectMs = await Promise.all(loads.map((l) => l.connected(180_000)));
    ctx.log(`${NODES} nodes registered and connected in ${Math.round(Math.max(...connectMs))} ms`);

    const nodesReady = async (): Promise<number> => {
      const { nodes } = await client.request<{ nodes: NodeRecord[] }>('GET', '/v1/nodes');
      return nodes.filter((n) => n.state === 'ready').length;
    };
    const loadStats = (): Promise<LoadStats[]> => Promise.all(loads.map((l) => l.stats()));

    /** One steady window: CPU of the coordinator and the load processes, heartbeats sent, then every node must be ready. */
    const measure = async (ms: number): Promise<WindowFigures> => {
      const before = await loadStats();
      const pids = [coordinatorPid, ...loads.map((l) => l.child.pid!)];
      const cpu = new CpuWindow(pids);
      const load1 = loadAverage1();
      let prev = procCpuSeconds(coordinatorPid) ?? 0;
      let peakSecond = 0;
      for (let left = ms; left > 0; left -= 1_000) {
        const t = performance.now();
        await sleep(Math.min(1_000, left), ctx.signal);
        const now = procCpuSeconds(coordinatorPid);
        if (now === null) throw new Error(`the coordinator process is gone (log: ${coordinatorLog})`);
        peakSecond = Math.max(peakSecond, ((now - prev) / ((performance.now() - t) / 1000)) * 100);
        prev = now;
      }
      const { wallMs, percent } = cpu.read();
      const after = await loadStats();
      const ready = await nodesReady();
      const broken = after.reduce((s, a) => s + a.streamErrors, 0);
      if (ready !== NODES || broken > 0) {
        throw new Error(`${ready} of ${NODES} nodes ready after the window, ${broken} control streams broke (${after.find((a) => a.lastError !== null)?.lastError ?? 'no error recorded'}); coordinator log: ${coordinatorLog}`);
      }
      const sent = after.reduce((s, a, i) => s + a.heartbeatsSent - before[i]!.heartbeatsSent, 0);
      return {
        coordinatorPercent: percent.get(coordinatorPid)!.total,
        coordinatorSysPercent: percent.get(coordinatorPid)!.sys,
        coordinatorPeakSecondPercent: peakSecond,
        loadPercent: loads.map((l) => percent.get(l.child.pid!)!.total),
        heartbeatsPerSecond: sent / (wallMs / 1000),
        replicasReported: after.reduce((s, a) => s + a.replicasHeld, 0),
        nodesReady: ready,
        loadAverage1: load1,
        wallMs,
      };
    };
    const describe = (w: WindowFigures): string =>
      `coordinator ${w.coordinatorPercent.toFixed(1)} % of a core (${w.coordinatorSysPercent.toFixed(1)} % in the kernel; busiest second ${w.coordinatorPeakSecondPercent.toFixed(0)} %), ` +
      `load processes ${w.loadPercent.map((p) => `${p.toFixed(1)} %`).join(' + ')}, ${w.heartbeatsPerSecond.toFixed(0)} heartbeats/s ` +
      `(${((w.coordinatorPercent * 10_000) / w.heartbeatsPerSecond).toFixed(0)} µs of coordinator CPU each), ` +
      `${w.replicasReported} replica states per round, ${w.nodesReady}/${NODES} ready, machine load ${w.loadAverage1.toFixed(1)}`;

    // Past the registration burst (Redis writes, a reconcile per connect), before measuring.
    await sleep(3_000, ctx.signal);
    const idle = await measure(windowMs(ctx.options));
    ctx.log(`idle fleet (no replicas), ${Math.round(idle.wallMs / 1000)} s window: ${describe(idle)}`);

    const runIds: string[] = [];
    for (let i = 0; i < PIPELINES; i++) {
      const { runId } = await client.request<{ runId: string }>('POST', '/v1/pipelines', { text: workloadYaml(i), contentType: 'application/yaml' });
      runIds.push(runId);
    }
    const expected = PIPELINES * (STAGES * REPLICAS + 2);
    const placedBy = performance.now() + 120_000;
    for (;;) {
      ctx.signal.throwIfAborted();
      const views = await Promise.all(runIds.map((id) => client.request<RunView>('GET', `/v1/runs/${id}`)));
      const running = views.reduce((s, v) => s + v.replicas.filter((r) => r.phase === 'running').length, 0);
      const failed = views.find((v) => v.status === 'failed');
      if (failed) throw new Error(`workload run ${failed.id} failed: ${failed.reason ?? ''}`);
      if (running === expected) break;
      if (performance.now() > placedBy) throw new Error(`only ${running} of ${expected} workload replicas running after 120 s (log: ${coordinatorLog})`);
      await sleep(500, ctx.signal);
    }
    const perNode = (await loadStats()).reduce((s, a) => s + a.replicasHeld, 0) / NODES;
    ctx.log(`${expected} replicas of ${PIPELINES} pipelines running (${perNode.toFixed(1)} per node)`);
    await sleep(3_000, ctx.signal);

    const windows: WindowFigures[] = [];
    return {
      close,
      async rep(index, warm) {
        const w = await measure(windowMs(ctx.options));
        if (!warm) windows.push(w);
        ctx.log(`${warm ? 'warm-up' : `rep ${index}`}, ${Math.round(w.wallMs / 1000)} s window: ${describe(w)}`);
        return w.coordinatorPercent;
      },
      async finish() {
        const processes = peaks();
        await close();
        const loadMedian = loads.map((_, i) => median(windows.map((w) => w.loadPercent[i]!)));
        const hb = median(windows.map((w) => w.heartbeatsPerSecond));
        return {
          label: `\`gridline coordinator\` process (heartbeat ${HEARTBEAT_MS} ms, log level info) with ${NODES} simulated nodes over ${LOAD_PROCESSES} load processes ` +
            `(one gRPC channel + TCP connection per node), each reporting ~${perNode.toFixed(0)} running replicas of ${PIPELINES} pipelines ` +
            `(${STAGES} stages × ${REPLICAS} replicas) in every heartbeat (~${hb.toFixed(0)} heartbeats/s); CPU (utime+stime, /proc) over ${Math.round(windowMs(ctx.options) / 1000)} s windows, ` +
            `% of one core; all ${NODES} nodes ready after each window. Idle fleet (no replicas): ${idle.coordinatorPercent.toFixed(1)} %. ` +
            `Load processes (median): ${loadMedian.map((p) => `${p.toFixed(1)} %`).join(' + ')}`,
          unit: '% core',
          higherIsBetter: false,
          processes,
          details: {
            nodes: NODES, loadProcesses: LOAD_PROCESSES, heartbeatMs: HEARTBEAT_MS, windowMs: windowMs(ctx.options),
            workload: { pipelines: PIPELINES, stagesPerPipeline: STAGES, replicasPerStage: REPLICAS, replicas: expected, replicasPerNode: perNode },
            registrationMs: Math.round(Math.max(...connectMs)), idle, windows,
          },
        };
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const coordinatorHeartbeatsBench: BenchDefinition = {
  name: 'coordinator-heartbeats',
  description: `coordinator CPU with ${NODES} simulated nodes heartbeating every ${HEARTBEAT_MS} ms (coordinator as its own process)`,
  target: { text: `≤ ${TARGET_PERCENT} % of one core`, check: ({ gridline: g }) => (g === null ? null : g.median <= TARGET_PERCENT) },
  sides: { gridline },
  rounds: (o) => (o.quick ? { warmup: 0, reps: 2 } : { warmup: 0, reps: 3 }),
  timeoutMs: (o) => (o.quick ? 150_000 : 420_000),
};

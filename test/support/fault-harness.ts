import { copyFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { pingRedis } from '../../cli/redis/redis-ping.js';
import { keySpace } from '../../common/keys.js';
import { FINAL_RUN_STATUSES, type RunView } from '../../common/run-types.js';
import { queueDepth } from '../../services/queue/stage-queues.js';
import { gridline, startProcess, waitFor, type TestProcess } from './processes.js';
import { authedFetch } from './auth.js';

/**
 * Shared pieces of the fault tests (fault-*.test.ts): input images, a cheap two-stage
 * preprocessing pipeline, the run API, waiting with diagnostics, the exactly-once check on the
 * JSONL sink, seeded randomness for kill timing, and a redis-server of the test's own.
 */

const SAMPLE = fileURLToPath(new URL('../../pipelines/data/bw_text.png', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Randomness: seeded so a failing repetition can be replayed (GRIDLINE_FAULT_SEED=<seed>).

/** The seed of this file's run: GRIDLINE_FAULT_SEED, or a fresh one. Log it. */
export function faultSeed(): number {
  const fromEnv = process.env.GRIDLINE_FAULT_SEED;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv) >>> 0;
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/** mulberry32: a small deterministic PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many repetitions each fault test runs (GRIDLINE_FAULT_REPEATS overrides; at least 1). */
export function faultRepeats(fallback = 5): number {
  const v = Number(process.env.GRIDLINE_FAULT_REPEATS);
  return Number.isInteger(v) && v >= 1 ? v : fallback;
}

// ---------------------------------------------------------------------------------------------
// Timeline: what a repetition did and when, printed with every failure (and once it passes).

export class Timeline {
  private readonly started = Date.now();
  private readonly entries: string[] = [];

  constructor(readonly title: string) {}

  note(what: string): void {
    this.entries.push(`+${((Date.now() - this.started) / 1000).toFixed(2)}s ${what}`);
  }

  elapsedMs(): number {
    return Date.now() - this.started;
  }

  toString(): string {
    return `${this.title}\n${this.entries.map((e) => `  ${e}`).join('\n')}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs and the pipeline.

/** `count` copies of pipelines/data/bw_text.png (8 KiB, 516×333) in a fresh temp dir: img-0000.png ... */
export async function makeImages(count: number, tag: string): Promise<{ dir: string; keys: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), `gl-fault-${tag}-`));
  const input = join(dir, 'in');
  await mkdir(input);
  const keys = Array.from({ length: count }, (_, i) => `img-${String(i).padStart(4, '0')}.png`);
  for (const key of keys) await copyFile(SAMPLE, join(input, key));
  return { dir, keys };
}

export interface FaultPipelineOptions {
  readonly name: string;
  /** Folder of PNGs. */
  readonly source: string;
  readonly sink: string;
  /** Items per chunk (default 4: many chunks, so a kill always finds some in flight). */
  readonly maxItems?: number;
  /** Replicas of each of the two stages (default 2). */
  readonly replicas?: number;
}

/**
 * A cheap two-stage pipeline: `shrink` decodes each PNG and resizes it to 32×32 (3 KiB: rides
 * inline), `norm` normalizes it and drops the tensors, so the sink writes meta only. Small CPU
 * requests, so the replicas of a lost node fit on the survivors.
 */
export function faultPipeline(o: FaultPipelineOptions): string {
  const resources = { cpu: '250m', memory: '64Mi' };
  const retry = { attempts: 5, backoffMs: 200 };
  return JSON.stringify({
    apiVersion: 'gridline/v1',
    kind: 'Pipeline',
    metadata: { name: o.name },
    spec: {
      source: { kind: 'files', path: o.source, glob: '*.png' },
      chunking: { maxItems: o.maxItems ?? 4 },
      stages: [
        {
          name: 'shrink', type: 'preprocessing', replicas: o.replicas ?? 2, resources, retry,
          ops: ['image.decode', { 'image.resize': { width: 32, height: 32 } }, { 'fields.drop': { fields: ['file'] } }],
        },
        {
          name: 'norm', type: 'preprocessing', replicas: o.replicas ?? 2, resources, retry,
          ops: ['image.normalize', { 'fields.drop': { fields: ['image', 'x'] } }],
        },
      ],
      sink: { kind: 'jsonl', path: o.sink },
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The coordinator's REST API.

export async function submitPipeline(httpUrl: string, doc: string): Promise<string> {
  const res = await authedFetch(`${httpUrl}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: doc });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`submitting the pipeline: HTTP ${res.status}: ${body}`);
  return (JSON.parse(body) as { runId: string }).runId;
}

/** The run's view, or null while the coordinator does not answer (restarting, or Redis away). */
export async function tryGetRun(httpUrl: string, runId: string): Promise<RunView | null> {
  try {
    const res = await authedFetch(`${httpUrl}/v1/runs/${runId}`, { signal: AbortSignal.timeout(2_000) });
    if (res.status !== 200) return null;
    return (await res.json()) as RunView;
  } catch {
    return null;
  }
}

export function isFinal(view: RunView): boolean {
  return FINAL_RUN_STATUSES.includes(view.status);
}

/** One line: status and each stage's counters. */
export function summarize(view: RunView | null): string {
  if (view === null) return 'no answer from the coordinator';
  const stages = view.stages.map((s) => {
    const c = view.counters[s.name];
    return c ? `${s.name} q${c.queued}/a${c.active}/c${c.completed}/f${c.failed}` : s.name;
  }).join(' ');
  return `${view.status}${view.reason ? ` (${view.reason})` : ''}; items ${view.items.completed}+${view.items.failed}/${view.items.total ?? '?'}; ${stages}`;
}

// ---------------------------------------------------------------------------------------------
// Processes and diagnostics.

/** Processes of one repetition by name, for teardown and for the output tails in failures. */
export class ProcessGroup {
  private readonly procs = new Map<string, TestProcess>();
  /** Processes that ended (killed, or replaced under the same name): their output still counts. */
  private readonly gone: { name: string; proc: TestProcess }[] = [];

  add(name: string, proc: TestProcess): TestProcess {
    const previous = this.procs.get(name);
    if (previous) this.gone.push({ name: `${name} (earlier)`, proc: previous });
    this.procs.set(name, proc);
    return proc;
  }

  get(name: string): TestProcess {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no process named ${name}`);
    return p;
  }

  names(): string[] {
    return [...this.procs.keys()];
  }

  /** Each process's last warnings and errors (JSON log level ≥ 40, or non-JSON lines) and its last `chars` of output. */
  tails(chars = 2_000): string {
    return [...this.gone, ...[...this.procs].map(([name, proc]) => ({ name, proc }))]
      .map(({ name, proc }) => {
        const out = proc.output();
        const warnings = out.split('\n').filter((l) => l.trim() !== '' && (!l.startsWith('{') || /"level":[4-6]0/.test(l)));
        const shown = warnings.slice(-15).map((l) => l.slice(0, 400));
        return `--- ${name} (pid ${proc.child.pid}, ${exitOf(proc)}): ${warnings.length} warnings/errors${shown.length > 0 ? `, the last ${shown.length}:\n${shown.join('\n')}` : ''}\n  last output:\n${out.slice(-chars)}`;
      })
      .join('\n');
  }

  /** Kills every process but those named in `except` (e.g. Redis, stopped after the coordinator). */
  async killAll(signal: NodeJS.Signals = 'SIGKILL', except: readonly string[] = []): Promise<void> {
    await Promise.all([...this.procs].filter(([name]) => !except.includes(name)).map(([, p]) => p.kill(signal)));
  }
}

function exitOf(p: TestProcess): string {
  if (p.child.exitCode !== null) return `exited ${p.child.exitCode}`;
  if (p.child.signalCode !== null) return `killed by ${p.child.signalCode}`;
  return 'running';
}

/** `gridline worker` with simulated-free resources (no GPUs), its token in the environment. */
export function startWorker(coordinatorGrpc: string, nodeId: string, joinToken: string, extra: readonly string[] = []): TestProcess {
  return gridline(['worker', '--coordinator', coordinatorGrpc, '--node-id', nodeId, '--gpus', 'none', ...extra], { GRIDLINE_JOIN_TOKEN: joinToken });
}


/** With GRIDLINE_FAULT_VERBOSE=1, a passing repetition prints its diagnostics too (warnings, queues). */
export async function reportPass(d: Diagnostics, view: RunView): Promise<void> {
  console.log(process.env.GRIDLINE_FAULT_VERBOSE === '1' ? await explain(d, view) : d.timeline.toString());
}

export interface Diagnostics {
  readonly timeline: Timeline;
  readonly processes: ProcessGroup;
  /** Redis and key prefix of the cluster, to add BullMQ job counts per stage queue. */
  readonly redisUrl?: string;
  readonly keyPrefix?: string;
}

/** Everything that explains a stuck or wrong run: timeline, run view, queue job counts, process tails. */
export async function explain(d: Diagnostics, view: RunView | null): Promise<string> {
  const parts = [d.timeline.toString(), `run: ${summarize(view)}`];
  if (view) {
    parts.push(`replicas: ${view.replicas.map((r) => `${r.replicaId.split('.').slice(-2).join('.')}@${r.nodeId ?? '-'}:${r.phase}${r.message ? `(${r.message})` : ''}`).join(', ')}`);
    if (view.errors.length > 0) parts.push(`errors: ${JSON.stringify(view.errors.slice(0, 5))}`);
    if (d.redisUrl && d.keyPrefix) parts.push(`queues: ${await queueCounts(d.redisUrl, d.keyPrefix, view).catch((err: Error) => err.message)}`);
  }
  parts.push(d.processes.tails());
  return parts.join('\n');
}

async function queueCounts(redisUrl: string, keyPrefix: string, view: RunView): Promise<string> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    const prefix = keySpace(keyPrefix).queuePrefix;
    const out: string[] = [];
    for (const s of view.stages) out.push(`${s.name} ${JSON.stringify(await queueDepth(redis, prefix, s.queue))}`);
    return out.join('; ');
  } finally {
    redis.disconnect();
  }
}

/**
 * Polls the run until `pred` holds; rejects with the diagnostics on timeout, or when the run ends
 * first (unless `pred` accepted the final view).
 */
export async function waitForRun(
  httpUrl: () => string,
  runId: string,
  what: string,
  pred: (view: RunView) => boolean,
  timeoutMs: number,
  d: Diagnostics,
): Promise<RunView> {
  let last: RunView | null = null;
  try {
    return await waitFor(what, async () => {
      const v = await tryGetRun(httpUrl(), runId);
      if (v === null) return null;
      last = v;
      if (pred(v)) return v;
      if (isFinal(v)) throw new Error(`the run ended (${summarize(v)}) before ${what}`);
      return null;
    }, timeoutMs, 50);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await explain(d, last)}`, { cause: err });
  }
}

/** Waits for the run's final state, with the diagnostics on timeout. */
export function waitForRunEnd(httpUrl: () => string, runId: string, timeoutMs: number, d: Diagnostics): Promise<RunView> {
  return waitForRun(httpUrl, runId, 'the run to end', isFinal, timeoutMs, d);
}

/** Counters that do not add up for a run of `total` items with no failure: every stage saw each item once. */
/**
 * Waits for the run to end and checks what every fault test promises: it succeeded, its
 * counters add up to one per input at every stage, and the sink holds each input exactly once.
 */
export async function expectRunExactlyOnce(
  httpUrl: () => string,
  runId: string,
  o: { readonly sink: string; readonly keys: readonly string[]; readonly deadlineMs: number; readonly d: Diagnostics },
): Promise<RunView> {
  const { d, keys } = o;
  const view = await waitForRunEnd(httpUrl, runId, o.deadlineMs, d);
  d.timeline.note(`run ended: ${summarize(view)}`);
  expect(view.status, await explain(d, view)).toBe('succeeded');
  expect(view.items, await explain(d, view)).toMatchObject({ total: keys.length, completed: keys.length, failed: 0 });
  expect(counterProblems(view, keys.length), await explain(d, view)).toEqual([]);
  const check = await sinkProblems(o.sink, runId, keys);
  d.timeline.note(`sink: ${check.lines} lines`);
  expect(check.problems, await explain(d, view)).toEqual([]);
  return view;
}

export function counterProblems(view: RunView, total: number): string[] {
  const problems: string[] = [];
  for (const s of view.stages) {
    const c = view.counters[s.name];
    if (!c) problems.push(`${s.name}: no counters`);
    else if (c.completed !== total || c.failed !== 0) problems.push(`${s.name}: completed ${c.completed}, failed ${c.failed} of ${total}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The sink.

export interface SinkLine {
  readonly id: string;
  readonly key: string;
  readonly run: string;
}

/** Every problem with the sink file against "one line per input, no id twice"; empty when right. */
export async function sinkProblems(path: string, runId: string, keys: readonly string[]): Promise<{ lines: number; problems: string[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { lines: 0, problems: [`cannot read the sink ${path}: ${(err as Error).message}`] };
  }
  const problems: string[] = [];
  if (text !== '' && !text.endsWith('\n')) problems.push('the sink ends in a partial line');
  const raw = text.split('\n').filter((l) => l.trim() !== '');
  const parsed: SinkLine[] = [];
  raw.forEach((line, i) => {
    try {
      parsed.push(JSON.parse(line) as SinkLine);
    } catch {
      problems.push(`line ${i + 1} is not JSON: ${line.slice(0, 120)}`);
    }
  });
  if (raw.length !== keys.length) problems.push(`${raw.length} lines for ${keys.length} inputs`);
  const byId = new Map<string, number>();
  const byKey = new Map<string, number>();
  for (const l of parsed) {
    byId.set(l.id, (byId.get(l.id) ?? 0) + 1);
    byKey.set(l.key, (byKey.get(l.key) ?? 0) + 1);
    if (l.run !== runId) problems.push(`line of another run: ${JSON.stringify(l).slice(0, 160)}`);
  }
  const dupIds = [...byId].filter(([, n]) => n > 1);
  if (dupIds.length > 0) problems.push(`${dupIds.length} ids written more than once: ${dupIds.slice(0, 5).map(([id, n]) => `${id}×${n}`).join(', ')}`);
  const missing = keys.filter((k) => !byKey.has(k));
  if (missing.length > 0) problems.push(`${missing.length} inputs missing: ${missing.slice(0, 10).join(', ')}`);
  const expected = new Set(keys);
  const foreign = [...byKey.keys()].filter((k) => !expected.has(k));
  if (foreign.length > 0) problems.push(`keys that are no input: ${foreign.slice(0, 5).join(', ')}`);
  return { lines: raw.length, problems };
}

// ---------------------------------------------------------------------------------------------
// A redis-server of the test's own: fixed port and dir, so it can be restarted in place.

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly process: TestProcess;
  /** Starts it again on the same port and dir (after a kill); resolves once it answers PING. */
  restart(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface RedisServerOptions {
  readonly port: number;
  readonly dir: string;
  /** Addresses to listen on (default 127.0.0.1). */
  readonly bind?: readonly string[];
  /** Append-only file with fsync on every write (default true). */
  readonly appendOnly?: boolean;
}

export async function startRedisServer(o: RedisServerOptions): Promise<RedisServer> {
  const bind = o.bind ?? ['127.0.0.1'];
  const args = [
    '--port', String(o.port), '--bind', bind.join(' '), '--dir', o.dir, '--save', '',
    '--appendonly', o.appendOnly === false ? 'no' : 'yes', '--appendfsync', 'always',
    '--daemonize', 'no', '--protected-mode', 'no', '--logfile', '',
  ];
  let current: TestProcess;
  const launch = async (): Promise<void> => {
    current = startProcess('redis-server', args);
    await waitFor(`redis-server on port ${o.port} to answer PING`, async () => {
      if (current.child.exitCode !== null) throw new Error(`redis-server exited ${current.child.exitCode}: ${current.output().slice(-2000)}`);
      return pingRedis(o.port, bind[0]);
    }, 20_000, 50);
  };
  await launch();
  return {
    port: o.port,
    url: `redis://${bind[0]}:${o.port}`,
    get process() {
      return current;
    },
    restart: launch,
    async kill(signal) {
      await current.kill(signal);
    },
  };
}

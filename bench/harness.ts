/**
 * The shared bench harness: repetitions and medians, peak resident memory per process, Redis
 * key cleanup, and the results table (printed, and written as JSON to bench/results/latest.json).
 *
 * Each side of a benchmark (the raw baseline, gridline) runs in a child process of its own
 * (bench/side.ts), so the peak RSS of "this process" is that side's alone and not the high-water
 * mark left by whatever ran before it in the same process.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export type SideName = 'baseline' | 'gridline';

/** Options every side gets from bench/run.ts. */
export interface BenchOptions {
  /** Fewer items and repetitions: a smoke run. */
  readonly quick: boolean;
}

/** Peak resident memory of one process over a side's whole life. */
export interface ProcessPeak {
  /** What the process is: `bench`, `coordinator (+ bench driver)`, `worker local-1`... */
  readonly name: string;
  readonly pid: number;
  readonly peakRssBytes: number;
}

/** What a side says about itself once its repetitions are done. */
export interface SideSummary {
  /** One line saying what was measured, e.g. `BullMQ 3-queue chain, 5000 items`. */
  readonly label: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly processes: readonly ProcessPeak[];
  /** The most a measured repetition held in Redis at its end (its own keys only), if measured. */
  readonly redis?: { readonly keys: number; readonly bytes: number };
  /** Anything else worth keeping in the JSON (timelines, per-rep breakdowns). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Replaces the figures rep() returned (a side that times its repetitions itself). */
  readonly reps?: readonly number[];
}

export interface SideResult extends SideSummary {
  readonly side: SideName;
  /** One figure per measured repetition (warm-ups excluded), in `unit`. */
  readonly reps: readonly number[];
  readonly median: number;
  /** Wall time of the side's child process, set-up and idle waits included. */
  readonly wallMs: number;
}

/** What a side function gets: options, a signal aborted on timeout, a way to report child pids. */
export interface SideContext {
  readonly options: BenchOptions;
  readonly signal: AbortSignal;
  /** Child processes this side started: the runner kills them by pid if the side hangs. */
  reportPids(pids: readonly number[]): void;
  /** A progress line on stderr. */
  log(message: string): void;
}

/**
 * A side set up and ready to measure. bench/run.ts interleaves the two sides' repetitions
 * (baseline, gridline, gridline, baseline, ...) so that noise from a shared machine falls on both.
 */
export interface SideSession {
  /** One repetition; returns its figure in the summary's unit. */
  rep(index: number, warm: boolean): Promise<number>;
  /** After the last repetition: reads the peaks and stops everything. */
  finish(): Promise<SideSummary>;
  /** Stops everything (after a failure); idempotent, and done by finish() too. */
  close(): Promise<void>;
}

export type SideFunction = (ctx: SideContext) => Promise<SideSession>;

export interface BenchTarget {
  /** Human form, e.g. `ratio ≥ 3` or `≤ 1000 ms`. */
  readonly text: string;
  /** True when the figures meet the target; null when it cannot be judged. */
  check(result: { ratio: number | null; gridline: SideResult | null }): boolean | null;
}

export interface BenchDefinition {
  readonly name: string;
  readonly description: string;
  readonly target: BenchTarget;
  readonly sides: Partial<Record<SideName, SideFunction>>;
  /** Repetitions per side: `warmup` unmeasured ones, then `reps` measured ones. */
  rounds(options: BenchOptions): { readonly warmup: number; readonly reps: number };
  /** Hard wall-clock limit for the whole benchmark, both sides together. */
  timeoutMs(options: BenchOptions): number;
}

export interface BenchResult {
  readonly name: string;
  readonly description: string;
  readonly target: string;
  readonly baseline: SideResult | null;
  readonly gridline: SideResult | null;
  /** gridline ÷ baseline for higher-is-better figures, baseline ÷ gridline otherwise. */
  readonly ratio: number | null;
  readonly targetMet: boolean | null;
  readonly errors: readonly { side: SideName; message: string }[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Peak RSS of this process so far (maxRSS is in kilobytes). */
export function selfPeakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * Peak (VmHWM) and current (VmRSS) resident memory of a live process, from /proc/<pid>/status.
 * Read it before the process exits: the figures go with it. Null when the process is gone.
 */
export function procMemory(pid: number): { peakRssBytes: number; rssBytes: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { peakRssBytes: kb('VmHWM'), rssBytes: kb('VmRSS') };
}

/** A key prefix for one bench run; every Redis key the run makes starts with `${prefix}:`. */
export function benchPrefix(name: string): string {
  return `glbench-${name}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `${prefix}:` (SCAN + UNLINK); returns how many. */
export async function deletePrefix(prefix: string, url = REDIS_URL): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  let removed = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

/**
 * Keys matching `pattern` and the memory Redis reports for them (MEMORY USAGE, every nested
 * value sampled): what a run holds in Redis. Measured per run rather than as used_memory, which
 * the other side (and anything else on the shared Redis) moves too.
 */
export async function redisFootprint(pattern: string, url = REDIS_URL): Promise<{ keys: number; bytes: number }> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  let keys = 0;
  let bytes = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (found.length === 0) continue;
      const pipeline = redis.pipeline();
      for (const key of found) pipeline.memory('USAGE', key, 'SAMPLES', 0);
      for (const [err, usage] of (await pipeline.exec()) ?? []) {
        if (err === null && typeof usage === 'number') {
          keys += 1;
          bytes += usage;
        }
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return { keys, bytes };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Results: table and JSON

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function figure(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '—';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function sideCell(side: SideResult | null): string {
  if (side === null) return '—';
  return `${figure(side.median, side.unit)} (${side.reps.map((r) => figure(r, '').trim()).join(', ')})`;
}

function rssCell(side: SideResult | null): string {
  if (side === null) return '';
  const redis = side.redis === undefined ? '' : ` [Redis: ${side.redis.bytes < 2 ** 20 ? `${(side.redis.bytes / 1024).toFixed(0)} KiB` : mib(side.redis.bytes)} in ${side.redis.keys} keys at the end of a run]`;
  return side.processes.map((p) => `${p.name} ${mib(p.peakRssBytes)}`).join('; ') + redis;
}

/** The largest footprint of several (by bytes). */
export function largest(footprints: readonly { keys: number; bytes: number }[]): { keys: number; bytes: number } | undefined {
  return footprints.reduce<{ keys: number; bytes: number } | undefined>((a, b) => (a === undefined || b.bytes > a.bytes ? b : a), undefined);
}

/** Rows as aligned columns, a rule under the first (the header). */
function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c]!)).join(' │ ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...rows.slice(1).map(line)].join('\n');
}

/** The results as a table: one row per bench, then the peak RSS of every process. */
export function formatResults(results: readonly BenchResult[]): string {
  const head = ['bench', 'baseline median (reps)', 'gridline median (reps)', 'ratio', 'target', 'met'];
  const rows = results.map((r) => [
    r.name,
    sideCell(r.baseline),
    sideCell(r.gridline),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
    r.target,
    r.errors.length > 0 ? 'ERROR' : r.targetMet === null ? '?' : r.targetMet ? 'yes' : 'NO',
  ]);
  const lines = [pad([head, ...rows]), '', 'peak RSS per process (VmHWM / maxRSS):'];
  for (const r of results) {
    for (const side of [r.baseline, r.gridline]) {
      if (side !== null) lines.push(`  ${r.name} ${side.side}: ${rssCell(side)}`);
    }
    for (const e of r.errors) lines.push(`  ${r.name} ${e.side}: ERROR ${e.message}`);
  }
  lines.push('', 'what each side measured:');
  for (const r of results) {
    for (const side of [r.baseline, r.gridline]) if (side !== null) lines.push(`  ${r.name} ${side.side}: ${side.label}`);
  }
  return lines.join('\n');
}

export async function writeResults(path: URL, document: unknown): Promise<void> {
  await mkdir(new URL('.', path), { recursive: true });
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);
}

/** Wraps a cleanup so that it runs once, however often it is called. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}

/** Removes a side's temp folder, unless BENCH_KEEP_TMP=1 asks to keep it (logs, sink files). */
export async function removeTmp(dir: string, ctx: SideContext): Promise<void> {
  if (process.env.BENCH_KEEP_TMP === '1') {
    ctx.log(`kept ${dir} (BENCH_KEEP_TMP=1)`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
}

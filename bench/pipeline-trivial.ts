/**
 * pipeline-trivial: items/s through 3 stages of trivial work.
 *
 * baseline: the raw BullMQ chain gridline sits on: three queues, each stage's Worker (concurrency
 * 10) adds one job per item to the next queue; N items added to the first, timed until the last
 * stage has seen all N (saturated throughput), in one process.
 *
 * gridline: a local cluster with 2 worker processes, a files source of N 64-byte files, three
 * preprocessing stages each running `fields.drop` (the first drops `file`, the others drop a
 * field already gone: the cheapest op there is), chunks of 64 items, a jsonl sink. Timed from the
 * POST to the first poll (every 50 ms) that sees the run succeeded.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import type { BenchCluster } from './gridline-cluster.js';
import {
  benchPrefix, deletePrefix, largest, once, redisFootprint, REDIS_URL, removeTmp, selfPeakRssBytes,
  type BenchDefinition, type BenchOptions, type SideContext, type SideSession,
} from './harness.js';

const FILE_BYTES = 64;
const CHUNK_ITEMS = 64;
const CONCURRENCY = 10;

function items(options: BenchOptions): number {
  // Enough items that per-run setup (placing replicas, the first reconcile tick) is amortized.
  return options.quick ? 1_000 : 20_000;
}

/** The bytes of item i: deterministic, 64 of them. */
function fileBytes(i: number): Buffer {
  const b = Buffer.alloc(FILE_BYTES);
  for (let j = 0; j < FILE_BYTES; j++) b[j] = (i * 31 + j * 7) & 0xff;
  return b;
}

async function baseline(ctx: SideContext): Promise<SideSession> {
  const n = items(ctx.options);
  const prefix = benchPrefix('trivial-raw');
  const bullPrefix = `${prefix}:q`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const payloads = Array.from({ length: n }, (_, i) => ({ key: `item-${String(i).padStart(6, '0')}.bin`, file: fileBytes(i).toString('base64') }));
  const perRepMs: number[] = [];
  const footprints: { keys: number; bytes: number }[] = [];
  const close = once(async () => {
    connection.disconnect();
    await deletePrefix(prefix);
  });

  const rep = async (index: number, warm: boolean): Promise<number> => {
    // Fresh queues per repetition, as gridline has per run.
    const names = [1, 2, 3].map((s) => `chain-r${index}-s${s}`);
    const queues = names.map((name) => new Queue(name, { connection, prefix: bullPrefix }));
    const blocking: Redis[] = [];
    let done = 0;
    let finish: () => void = () => undefined;
    const allDone = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const workers = names.map((name, s) => {
      // Each Worker gets a connection of its own, as gridline's stage consumers do.
      const conn = connection.duplicate();
      blocking.push(conn);
      const next = queues[s + 1];
      return new Worker(name, async (job) => {
        if (next !== undefined) await next.add('item', job.data);
        else if (++done === n) finish();
      }, { connection: conn, prefix: bullPrefix, concurrency: CONCURRENCY });
    });
    const onAbort = (): void => finish();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      const t0 = performance.now();
      for (let i = 0; i < n; i += 500) {
        await queues[0]!.addBulk(payloads.slice(i, i + 500).map((data) => ({ name: 'item', data })));
      }
      await allDone;
      const ms = performance.now() - t0;
      ctx.signal.throwIfAborted();
      if (!warm) {
        perRepMs.push(Math.round(ms));
        footprints.push(await redisFootprint(`${bullPrefix}:chain-r${index}-*`));
      }
      ctx.log(`${warm ? 'warm-up' : `rep ${index}`}: ${n} items in ${ms.toFixed(0)} ms = ${(n / (ms / 1000)).toFixed(0)} items/s`);
      return n / (ms / 1000);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await Promise.all(workers.map((w) => w.close(true)));
      await Promise.all(queues.map((q) => q.close()));
      for (const c of blocking) c.disconnect();
    }
  };

  return {
    rep,
    close,
    async finish() {
      const peak = selfPeakRssBytes();
      await close();
      return {
        label: `raw BullMQ 3-queue chain, ${n} items × 1 job each, concurrency ${CONCURRENCY} per stage, 1 process; first addBulk → last job done`,
        unit: 'items/s',
        higherIsBetter: true,
        processes: [{ name: 'bench (3 BullMQ workers)', pid: process.pid, peakRssBytes: peak }],
        redis: largest(footprints),
        details: { items: n, perRepMs, redisPerRep: footprints },
      };
    },
  };
}

function pipelineYaml(sourceDir: string, sinkPath: string): string {
  const stage = (name: string): unknown => ({ name, type: 'preprocessing', ops: [{ 'fields.drop': { fields: ['file'] } }] });
  return stringify({
    apiVersion: 'gridline/v1',
    kind: 'Pipeline',
    metadata: { name: 'bench-trivial' },
    spec: {
      source: { kind: 'files', path: sourceDir, glob: '*.bin' },
      chunking: { maxItems: CHUNK_ITEMS },
      stages: [stage('s1'), stage('s2'), stage('s3')],
      sink: { kind: 'jsonl', path: sinkPath },
    },
  });
}

async function gridline(ctx: SideContext): Promise<SideSession> {
  const n = items(ctx.options);
  const tmp = await mkdtemp(join(tmpdir(), 'glbench-trivial-'));
  const footprints: { keys: number; bytes: number }[] = [];
  let bench: BenchCluster | null = null;
  // Loaded here: the baseline side's process must not carry the coordinator in its peak RSS.
  const { runPipeline, startBenchCluster, timingDetails } = await import('./gridline-cluster.js');
  const close = once(async () => {
    await bench?.stop().catch((err: unknown) => ctx.log(`cleanup failed: ${(err as Error).message}`));
    await removeTmp(tmp, ctx);
  });
  try {
    const sourceDir = join(tmp, 'source');
    await mkdir(sourceDir, { recursive: true });
    for (let i = 0; i < n; i += 200) {
      await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, j) =>
        writeFile(join(sourceDir, `item-${String(i + j).padStart(6, '0')}.bin`), fileBytes(i + j))));
    }
    bench = await startBenchCluster({ workers: 2, dataDir: join(tmp, 'cluster'), prefix: benchPrefix('trivial'), ctx });
    const b = bench;
    const perRep: Record<string, unknown>[] = [];
    return {
      close,
      async rep(index, warm) {
        const sink = join(tmp, 'out', `rep-${index}.jsonl`);
        const t = await runPipeline(b.client, pipelineYaml(sourceDir, sink), { signal: ctx.signal, timeoutMs: 120_000, logs: b.cluster.workerLogs });
        // Before the coordinator's cleanup (2 heartbeats after the end) removes the run's keys.
        if (!warm) footprints.push(await redisFootprint(`${b.prefix}:*{${t.runId}*`));
        const lines = (await readFile(sink, 'utf8')).split('\n').filter((l) => l !== '').length;
        if (lines !== n) throw new Error(`run ${t.runId}: the sink holds ${lines} lines, expected ${n}`);
        if (!warm) perRep.push(timingDetails(t));
        const rate = n / (t.totalMs / 1000);
        ctx.log(`${warm ? 'warm-up' : `rep ${index}`}: ${n} items in ${t.totalMs.toFixed(0)} ms = ${rate.toFixed(0)} items/s ` +
          `(running at ${t.runningMs?.toFixed(0)} ms, first item sunk at ${t.firstSinkMs?.toFixed(0)} ms, source done at ${t.sourceDoneMs?.toFixed(0)} ms, all sunk at ${t.allSunkMs?.toFixed(0)} ms)`);
        return rate;
      },
      async finish() {
        const { peaks, keysRemoved } = await b.stop();
        await close();
        return {
          label: `gridline local cluster (coordinator + 2 worker processes), ${n} × ${FILE_BYTES}-byte files, 3 preprocessing stages (fields.drop; defaults: 1 replica, concurrency 2), chunks of ${CHUNK_ITEMS}, jsonl sink; POST → succeeded`,
          unit: 'items/s',
          higherIsBetter: true,
          processes: peaks,
          redis: largest(footprints),
          details: { items: n, chunkItems: CHUNK_ITEMS, perRep, redisPerRep: footprints, redisKeysRemovedAtEnd: keysRemoved },
        };
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const pipelineTrivialBench: BenchDefinition = {
  name: 'pipeline-trivial',
  description: 'items/s through 3 trivial stages: gridline (chunks of 64) vs the raw BullMQ per-item 3-queue chain',
  target: { text: 'ratio ≥ 3', check: ({ ratio }) => (ratio === null ? null : ratio >= 3) },
  sides: { baseline, gridline },
  rounds: (o) => (o.quick ? { warmup: 1, reps: 2 } : { warmup: 1, reps: 3 }),
  timeoutMs: (o) => (o.quick ? 150_000 : 300_000),
};

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
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { runPipeline, startBenchCluster, timingDetails } from './gridline-cluster.js';
import {
  benchPrefix, deletePrefix, RedisMemorySampler, REDIS_URL, repeat, selfPeakRssBytes,
  type BenchDefinition, type BenchOptions, type SideContext, type SideMeasurement,
} from './harness.js';

const FILE_BYTES = 64;
const CHUNK_ITEMS = 64;
const CONCURRENCY = 10;

function sizes(options: BenchOptions): { items: number; reps: number; warmup: number } {
  return options.quick ? { items: 500, reps: 2, warmup: 1 } : { items: 5_000, reps: 3, warmup: 1 };
}

/** The bytes of item i: deterministic, 64 of them. */
function fileBytes(i: number): Buffer {
  const b = Buffer.alloc(FILE_BYTES);
  for (let j = 0; j < FILE_BYTES; j++) b[j] = (i * 31 + j * 7) & 0xff;
  return b;
}

async function baseline(ctx: SideContext): Promise<SideMeasurement> {
  const { items, reps, warmup } = sizes(ctx.options);
  const prefix = benchPrefix('trivial-raw');
  const bullPrefix = `${prefix}:q`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const payloads = Array.from({ length: items }, (_, i) => ({ key: `item-${String(i).padStart(6, '0')}.bin`, file: fileBytes(i).toString('base64') }));
  const sampler = new RedisMemorySampler();
  await sampler.begin();
  const perRep: { ms: number }[] = [];
  try {
    const figures = await repeat(reps, warmup, ctx.signal, async (rep, warm) => {
      // Fresh queues per repetition, as gridline has per run.
      const names = [1, 2, 3].map((s) => `chain-r${rep}-s${s}`);
      const queues = names.map((n) => new Queue(n, { connection, prefix: bullPrefix }));
      const blocking: Redis[] = [];
      let done = 0;
      let finish: () => void = () => undefined;
      const allDone = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const workers = names.map((name, s) => {
        const conn = connection.duplicate();
        blocking.push(conn);
        const next = queues[s + 1];
        return new Worker(name, async (job) => {
          if (next !== undefined) {
            await next.add('item', job.data);
          } else if (++done === items) {
            finish();
          }
        }, { connection: conn, prefix: bullPrefix, concurrency: CONCURRENCY });
      });
      try {
        await Promise.all(workers.map((w) => w.waitUntilReady()));
        const onAbort = (): void => finish();
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        const t0 = performance.now();
        for (let i = 0; i < items; i += 500) {
          await queues[0]!.addBulk(payloads.slice(i, i + 500).map((data) => ({ name: 'item', data })));
        }
        await allDone;
        const ms = performance.now() - t0;
        ctx.signal.removeEventListener('abort', onAbort);
        ctx.signal.throwIfAborted();
        if (!warm) perRep.push({ ms });
        ctx.log(`${warm ? 'warm-up' : `rep ${rep - warmup + 1}/${reps}`}: ${items} items in ${ms.toFixed(0)} ms = ${(items / (ms / 1000)).toFixed(0)} items/s`);
        return items / (ms / 1000);
      } finally {
        await Promise.all(workers.map((w) => w.close(true)));
        await Promise.all(queues.map((q) => q.close()));
        for (const c of blocking) c.disconnect();
      }
    });
    const redisPeak = await sampler.end();
    return {
      label: `raw BullMQ 3-queue chain, ${items} items × 1 job each, concurrency ${CONCURRENCY} per stage, 1 process`,
      unit: 'items/s',
      higherIsBetter: true,
      reps: figures,
      processes: [{ name: 'bench (3 BullMQ workers)', pid: process.pid, peakRssBytes: selfPeakRssBytes() }],
      details: { items, warmup, perRepMs: perRep.map((r) => Math.round(r.ms)), redisUsedMemoryPeakDeltaBytes: redisPeak },
    };
  } finally {
    await sampler.end().catch(() => undefined);
    connection.disconnect();
    await deletePrefix(prefix);
  }
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

async function gridline(ctx: SideContext): Promise<SideMeasurement> {
  const { items, reps, warmup } = sizes(ctx.options);
  const tmp = await mkdtemp(join(tmpdir(), 'glbench-trivial-'));
  const sourceDir = join(tmp, 'source');
  await mkdir(sourceDir, { recursive: true });
  for (let i = 0; i < items; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, items - i) }, (_, j) =>
      writeFile(join(sourceDir, `item-${String(i + j).padStart(6, '0')}.bin`), fileBytes(i + j))));
  }
  const prefix = benchPrefix('trivial');
  const sampler = new RedisMemorySampler();
  let bench: Awaited<ReturnType<typeof startBenchCluster>> | null = null;
  try {
    bench = await startBenchCluster({ workers: 2, dataDir: join(tmp, 'cluster'), prefix, ctx });
    const b = bench;
    await sampler.begin();
    const perRep: Record<string, unknown>[] = [];
    const figures = await repeat(reps, warmup, ctx.signal, async (rep, warm) => {
      const sink = join(tmp, 'out', `rep-${rep}.jsonl`);
      const t = await runPipeline(b.client, pipelineYaml(sourceDir, sink), { signal: ctx.signal, timeoutMs: 120_000, logs: b.cluster.workerLogs });
      const lines = (await readFile(sink, 'utf8')).split('\n').filter((l) => l !== '').length;
      if (lines !== items) throw new Error(`run ${t.runId}: the sink holds ${lines} lines, expected ${items}`);
      if (!warm) perRep.push(timingDetails(t));
      const rate = items / (t.totalMs / 1000);
      ctx.log(`${warm ? 'warm-up' : `rep ${rep - warmup + 1}/${reps}`}: ${items} items in ${t.totalMs.toFixed(0)} ms = ${rate.toFixed(0)} items/s ` +
        `(running at ${t.runningMs?.toFixed(0)} ms, first item sunk at ${t.firstSinkMs?.toFixed(0)} ms, source done at ${t.sourceDoneMs?.toFixed(0)} ms, all sunk at ${t.allSunkMs?.toFixed(0)} ms)`);
      return rate;
    });
    const redisPeak = await sampler.end();
    const { peaks, keysRemoved } = await b.stop();
    return {
      label: `gridline local cluster (coordinator + 2 worker processes), ${items} × ${FILE_BYTES}-byte files, 3 preprocessing stages (fields.drop), chunks of ${CHUNK_ITEMS}, jsonl sink; submit → succeeded`,
      unit: 'items/s',
      higherIsBetter: true,
      reps: figures,
      processes: peaks,
      details: { items, warmup, chunkItems: CHUNK_ITEMS, perRep, redisUsedMemoryPeakDeltaBytes: redisPeak, redisKeysRemoved: keysRemoved },
    };
  } finally {
    await sampler.end().catch(() => undefined);
    await bench?.stop().catch((err: unknown) => ctx.log(`cleanup failed: ${(err as Error).message}`));
    await rm(tmp, { recursive: true, force: true });
  }
}

export const pipelineTrivialBench: BenchDefinition = {
  name: 'pipeline-trivial',
  description: 'items/s through 3 trivial stages: gridline (chunks of 64) vs the raw BullMQ per-item 3-queue chain',
  target: { text: 'ratio ≥ 3', check: ({ ratio }) => (ratio === null ? null : ratio >= 3) },
  sides: { baseline, gridline },
  timeoutMs: (o) => (o.quick ? 120_000 : 240_000),
};

/**
 * The gridline side's fixture: a local cluster (coordinator in this process, N worker processes)
 * on the shared Redis under a key prefix of its own, a run submitted over the HTTP API and
 * followed to its end, peak RSS of every process, and cleanup of every key under the prefix.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../cli/create-logger.js';
import { CoordinatorClient } from '../cli/coordinator-client.js';
import { startLocalCluster, waitForNodes, type LocalCluster } from '../cli/local-cluster.js';
import { FINAL_RUN_STATUSES, type RunView } from '../common/run-types.js';
import { deletePrefix, procMemory, REDIS_URL, selfPeakRssBytes, sleep, type ProcessPeak, type SideContext } from './harness.js';

export interface BenchCluster {
  readonly cluster: LocalCluster;
  readonly client: CoordinatorClient;
  readonly prefix: string;
  /** Peak RSS of the coordinator (this process) and of each worker process, read now. */
  peaks(): ProcessPeak[];
  /** Reads the peaks, stops the cluster and deletes every key under the prefix. */
  stop(): Promise<{ peaks: ProcessPeak[]; keysRemoved: number }>;
}

export async function startBenchCluster(options: { workers: number; dataDir: string; prefix: string; ctx: SideContext }): Promise<BenchCluster> {
  const { ctx, prefix } = options;
  await mkdir(join(options.dataDir, 'logs'), { recursive: true });
  const logFile = join(options.dataDir, 'logs', 'coordinator.log');
  const logger = createLogger({ name: 'bench-coordinator', format: 'json', destination: createWriteStream(logFile, { flags: 'a' }) });
  const started = performance.now();
  const cluster = await startLocalCluster({
    workers: options.workers, httpPort: 0, grpcPort: 0, host: '127.0.0.1',
    redisUrl: REDIS_URL, dataDir: options.dataDir, keyPrefix: prefix, logger,
    // The benchmarks' sources and sinks live in temp folders; the OCR models come from npm.
    allowedDirs: [process.cwd(), tmpdir()],
  });
  ctx.reportPids(cluster.workers.flatMap((w) => (w.pid === undefined ? [] : [w.pid])));
  const names = cluster.workers.map((_, i) => `worker local-${i + 1}`);
  // VmHWM only grows: keep the last figure read, so a worker that already exited keeps one.
  const lastPeak = new Map<string, ProcessPeak>();
  const peaks = (): ProcessPeak[] => {
    cluster.workers.forEach((w, i) => {
      const mem = w.pid === undefined ? null : procMemory(w.pid);
      if (mem !== null && w.pid !== undefined) lastPeak.set(names[i]!, { name: names[i]!, pid: w.pid, peakRssBytes: mem.peakRssBytes });
    });
    return [
      { name: 'coordinator (+ bench driver)', pid: process.pid, peakRssBytes: selfPeakRssBytes() },
      ...names.flatMap((n) => lastPeak.get(n) ?? []),
    ];
  };
  let stopped = false;
  const stop = async (): Promise<{ peaks: ProcessPeak[]; keysRemoved: number }> => {
    const final = peaks();
    if (!stopped) {
      stopped = true;
      await cluster.stop();
    }
    const keysRemoved = await deletePrefix(prefix);
    return { peaks: final, keysRemoved };
  };
  try {
    await waitForNodes(cluster.coordinator, options.workers, 60_000);
  } catch (err) {
    await stop().catch(() => undefined);
    throw new Error(`${(err as Error).message}; logs: ${cluster.workerLogs.join(', ')}`);
  }
  ctx.log(`cluster up in ${Math.round(performance.now() - started)} ms (${options.workers} worker processes, prefix ${prefix}, logs in ${join(options.dataDir, 'logs')})`);
  return { cluster, client: new CoordinatorClient(cluster.coordinator.httpUrl, cluster.adminKey.key), prefix, peaks, stop };
}

/** Milliseconds from just before the POST to the first poll that saw each moment. */
export interface RunTiming {
  readonly runId: string;
  readonly totalMs: number;
  readonly submitMs: number;
  readonly runningMs: number | null;
  readonly firstSinkMs: number | null;
  readonly sourceDoneMs: number | null;
  readonly allSunkMs: number | null;
  readonly polls: number;
  readonly view: RunView;
}

/**
 * Submits a pipeline (YAML text) and polls GET /v1/runs/:id every pollMs until the run ends.
 * Throws, after cancelling the run, on failure, abort or timeout.
 */
export async function runPipeline(
  client: CoordinatorClient,
  yamlText: string,
  options: { signal: AbortSignal; timeoutMs: number; pollMs?: number; logs?: readonly string[] },
): Promise<RunTiming> {
  const pollMs = options.pollMs ?? 50;
  const t0 = performance.now();
  const { runId } = await client.request<{ runId: string }>('POST', '/v1/pipelines', { text: yamlText, contentType: 'application/yaml' });
  const submitMs = performance.now() - t0;
  const since = (): number => performance.now() - t0;
  let runningMs: number | null = null;
  let firstSinkMs: number | null = null;
  let sourceDoneMs: number | null = null;
  let allSunkMs: number | null = null;
  let polls = 0;
  try {
    for (;;) {
      options.signal.throwIfAborted();
      if (since() > options.timeoutMs) throw new Error(`run ${runId} did not finish within ${Math.round(options.timeoutMs / 1000)} s`);
      const view = await client.request<RunView>('GET', `/v1/runs/${runId}`);
      polls += 1;
      const at = since();
      const total = view.items.total;
      const sunk = view.counters['sink']?.completed ?? 0;
      if (runningMs === null && view.status !== 'pending') runningMs = at;
      if (firstSinkMs === null && sunk > 0) firstSinkMs = at;
      if (sourceDoneMs === null && total !== null && (view.counters['source']?.completed ?? 0) >= total) sourceDoneMs = at;
      if (allSunkMs === null && total !== null && sunk >= total) allSunkMs = at;
      if (FINAL_RUN_STATUSES.includes(view.status)) {
        if (view.status !== 'succeeded') {
          const errors = view.errors.slice(0, 3).map((e) => `${e.stage} ${e.key}: ${e.code}: ${e.message}`).join('; ');
          throw new Error(`run ${runId} ${view.status}: ${view.reason ?? ''}${errors ? ` (${errors})` : ''}; logs: ${(options.logs ?? []).join(', ')}`);
        }
        return { runId, totalMs: at, submitMs, runningMs, firstSinkMs, sourceDoneMs, allSunkMs, polls, view };
      }
      await sleep(pollMs, options.signal);
    }
  } catch (err) {
    await client.request('DELETE', `/v1/runs/${runId}`).catch(() => undefined);
    throw err;
  }
}

/** The per-rep breakdown kept in the JSON results. */
export function timingDetails(t: RunTiming): Record<string, number | string | null> {
  const r = (v: number | null): number | null => (v === null ? null : Math.round(v));
  return {
    runId: t.runId, totalMs: r(t.totalMs), submitMs: r(t.submitMs), runningMs: r(t.runningMs), firstSinkMs: r(t.firstSinkMs),
    sourceDoneMs: r(t.sourceDoneMs), allSunkMs: r(t.allSunkMs), polls: t.polls,
  };
}

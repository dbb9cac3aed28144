/**
 * The gridline side of the inference benchmarks: a coordinator in this process, worker processes
 * serving a model repository (`gridline worker --model-repository`), and a gateway process
 * (`gridline gateway`) that takes its routes from the coordinator, all real processes as a user
 * runs them. Waits until the gateway answers every model ready; reads each process's peak RSS;
 * stops everything and deletes the coordinator's keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLogger } from '../cli/create-logger.js';
import { GRIDLINE_BIN, stopChild } from '../cli/worker-process.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import type { ModelBatchingOptions } from '../worker-node/model-server/served-model-spec.js';
import { deletePrefix, procMemory, REDIS_URL, selfPeakRssBytes, sleep, type ProcessPeak, type SideContext } from './harness.js';
import { BENCH_ADMIN_KEY, BENCH_AUTHORIZATION } from './bench-auth.js';

/** One model of the repository: an ONNX file to link to, or its bytes. */
export interface BenchModel {
  readonly name: string;
  readonly model: { readonly path: string } | { readonly bytes: Uint8Array };
  /** Written to `<model>/config.json` (worker-node/model-server/model-repository.ts). */
  readonly batching?: ModelBatchingOptions;
}

export interface InferenceCluster {
  readonly coordinator: RunningCoordinator;
  readonly gatewayHttpPort: number;
  readonly gatewayGrpcPort: number;
  /** Log files of the worker and gateway processes. */
  readonly logs: readonly string[];
  /** Peak RSS of this process (coordinator + load generator), the gateway and each worker, read now. */
  peaks(): ProcessPeak[];
  /** Reads the peaks, stops every process and deletes the coordinator's keys. */
  stop(): Promise<ProcessPeak[]>;
}

/** Writes `<dir>/<name>/1/model.onnx` (a link or the bytes) and config.json where batching is set. */
export async function writeBenchRepository(dir: string, models: readonly BenchModel[]): Promise<void> {
  for (const m of models) {
    const version = join(dir, m.name, '1');
    await mkdir(version, { recursive: true });
    if ('path' in m.model) await symlink(m.model.path, join(version, 'model.onnx'));
    else await writeFile(join(version, 'model.onnx'), m.model.bytes);
    if (m.batching !== undefined) await writeFile(join(dir, m.name, 'config.json'), JSON.stringify({ batching: m.batching }));
  }
}

function spawnGridline(args: readonly string[], logFile: string, env: NodeJS.ProcessEnv, stdout: 'pipe' | 'log'): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [GRIDLINE_BIN, ...args], {
    env: { ...process.env, GRIDLINE_LOG_FORMAT: 'json', GRIDLINE_LOG_LEVEL: 'info', GRIDLINE_API_KEY: BENCH_ADMIN_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.pipe(log);
  if (stdout === 'log') child.stdout?.pipe(log);
  // The side process may die without cleanup (SIGKILL by the runner): the runner kills reported pids.
  return child;
}

/** The gateway's `{"event":"listening",...}` line from its stdout; the rest of stdout goes to its log. */
function gatewayPorts(child: ChildProcess, logFile: string, timeoutMs: number): Promise<{ http: number; grpc: number }> {
  const log = createWriteStream(logFile, { flags: 'a' });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`the gateway printed no listening line within ${timeoutMs} ms (log: ${logFile})`)), timeoutMs);
    child.once('exit', (code, signal) => reject(new Error(`the gateway exited (code ${code}, signal ${signal}) before listening (log: ${logFile})`)));
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      try {
        const event = JSON.parse(line) as { event?: unknown; http?: unknown; grpc?: unknown };
        if (event.event === 'listening' && typeof event.http === 'number' && typeof event.grpc === 'number') {
          clearTimeout(timer);
          resolve({ http: event.http, grpc: event.grpc });
        }
      } catch {
        // not an event line
      }
    });
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, signal: AbortSignal, logs: readonly string[]): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    if (await check().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (logs: ${logs.join(', ')})`);
    await sleep(100, signal);
  }
}

/**
 * Starts the cluster. Worker and gateway processes start together; ready once the gateway says
 * every model is ready (its routes come from the coordinator's watch stream).
 */
export async function startInferenceCluster(options: {
  readonly dir: string;
  readonly prefix: string;
  readonly models: readonly BenchModel[];
  readonly workers?: number;
  readonly ctx: SideContext;
}): Promise<InferenceCluster> {
  const { ctx, dir, prefix } = options;
  const started = performance.now();
  const repo = join(dir, 'models');
  const logDir = join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  await writeBenchRepository(repo, options.models);
  const logger = createLogger({ name: 'bench-coordinator', format: 'json', destination: createWriteStream(join(logDir, 'coordinator.log'), { flags: 'a' }) });
  const coordinator = await startCoordinator({ adminKey: BENCH_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: prefix, httpPort: 0, grpcPort: 0 }, logger);

  const children: { name: string; child: ChildProcess }[] = [];
  const logs: string[] = [];
  const lastPeak = new Map<string, ProcessPeak>();
  const peaks = (): ProcessPeak[] => {
    for (const { name, child } of children) {
      const mem = child.pid === undefined ? null : procMemory(child.pid);
      if (mem !== null && child.pid !== undefined) lastPeak.set(name, { name, pid: child.pid, peakRssBytes: mem.peakRssBytes });
    }
    return [
      { name: 'coordinator + load generator', pid: process.pid, peakRssBytes: selfPeakRssBytes() },
      ...children.flatMap(({ name }) => lastPeak.get(name) ?? []),
    ];
  };
  let stopped: Promise<ProcessPeak[]> | null = null;
  const stop = (): Promise<ProcessPeak[]> => (stopped ??= (async () => {
    const final = peaks();
    await Promise.all(children.map(({ child }) => stopChild(child, 5_000)));
    await coordinator.stop();
    await deletePrefix(prefix);
    return final;
  })());

  try {
    const workers = options.workers ?? 1;
    for (let i = 1; i <= workers; i++) {
      const logFile = join(logDir, `worker-${i}.log`);
      logs.push(logFile);
      const child = spawnGridline(
        ['worker', '--coordinator', coordinator.grpcAddress, '--node-id', `bench-worker-${i}`, '--gpus', 'none', '--model-repository', repo],
        logFile, { GRIDLINE_JOIN_TOKEN: coordinator.joinToken }, 'log',
      );
      children.push({ name: `worker ${i}`, child });
    }
    const gatewayLog = join(logDir, 'gateway.log');
    logs.push(gatewayLog);
    const gateway = spawnGridline(['gateway', '--coordinator-url', coordinator.httpUrl, '--http-port', '0', '--grpc-port', '0'], gatewayLog, {}, 'pipe');
    children.push({ name: 'gateway', child: gateway });
    ctx.reportPids(children.flatMap(({ child }) => (child.pid === undefined ? [] : [child.pid])));
    const ports = await gatewayPorts(gateway, gatewayLog, 60_000);
    for (const m of options.models) {
      await waitUntil(`model ${m.name} ready through the gateway`, async () => {
        const res = await fetch(`http://127.0.0.1:${ports.http}/v2/models/${m.name}/ready`, { headers: { authorization: BENCH_AUTHORIZATION } });
        await res.arrayBuffer();
        return res.status === 200;
      }, 90_000, ctx.signal, logs);
    }
    const ready = performance.now() - started;
    ctx.log(`cluster up in ${Math.round(ready)} ms (coordinator, ${workers} worker process(es), gateway http ${ports.http} grpc ${ports.grpc}; logs in ${logDir})`);
    return { coordinator, gatewayHttpPort: ports.http, gatewayGrpcPort: ports.grpc, logs, peaks, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

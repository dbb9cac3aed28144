/**
 * inference-gateway-rate: requests/s of small OIP REST requests with JSON tensors (f32[1,16]),
 * the same closed-loop load on both sides (16 keep-alive connections).
 *
 * baseline: a bare node:http server in a process of its own (bench/inference-bare-server.ts)
 * doing the same parse: body → JSON → OIP request decoded (common/oip) → the input answered as
 * the output, encoded as the gateway encodes.
 *
 * gridline: the gateway process (express, OIP decode, gRPC hop) in front of one worker process
 * running the tiny add-one model with its default batching; coordinator and clients in this
 * process.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../cli/worker-process.js';
import { procMemory, type BenchDefinition, type BenchOptions, type ProcessPeak } from './harness.js';
import type { LoadResult } from './inference-clients.js';
import { TINY_MODEL } from './inference-models.js';
import { fixtureSide, fmt, selfPeak, warmUpMs, type Fixture, type Measured } from './inference-side.js';

const CONNECTIONS = 16;
const BARE_SERVER = fileURLToPath(new URL('./inference-bare-server.ts', import.meta.url));

function loadMs(options: BenchOptions): number {
  return options.quick ? 1_000 : 5_000;
}

function measured(r: LoadResult): Measured {
  return {
    figure: r.perSecond,
    line: `${fmt(r.perSecond)} req/s in the window (${r.completed} requests); p50 ${fmt(r.p50Ms)} ms p99 ${fmt(r.p99Ms)} ms; client process ${fmt(r.clientCores)} cores`,
    extra: { p50Ms: r.p50Ms, p99Ms: r.p99Ms, clientCores: r.clientCores },
  };
}

const loadText = (x: Readonly<Record<string, number>>): string =>
  `median p50 ${fmt(x['p50Ms'] ?? Number.NaN)} ms p99 ${fmt(x['p99Ms'] ?? Number.NaN)} ms; client process ${fmt(x['clientCores'] ?? Number.NaN)} cores`;

const baseline = fixtureSide('req/s', true, async (ctx): Promise<Fixture> => {
  const { measureClosedLoop, restInferClient, restJsonBody, warmUp } = await import('./inference-clients.js');
  // execArgv carries `--import tsx` from the bench runner.
  const child = spawn(process.execPath, [...process.execArgv, BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.pid !== undefined) ctx.reportPids([child.pid]);
  let peak: ProcessPeak | null = null;
  const readPeak = (): void => {
    const mem = child.pid === undefined ? null : procMemory(child.pid);
    if (mem !== null) peak = { name: 'bare node:http server', pid: child.pid!, peakRssBytes: mem.peakRssBytes };
  };
  const stop = async (): Promise<ProcessPeak[]> => {
    readPeak();
    await stopChild(child, 5_000);
    return [...selfPeak('bench (load generator)'), ...(peak === null ? [] : [peak])];
  };
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bare server printed no port within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`the bare server exited with code ${code}`)));
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const client = restInferClient(port, '/v2/models/tiny/infer', restJsonBody(TINY_MODEL.input, TINY_MODEL.rowShape), { connections: CONNECTIONS });
  await warmUp(client, CONNECTIONS, warmUpMs(ctx.options), ctx.signal);
  const ms = loadMs(ctx.options);
  return {
    async stop() {
      client.close();
      return stop();
    },
    measure: async (signal) => measured(await measureClosedLoop(() => client.call(), { clients: CONNECTIONS, durationMs: ms, signal })),
    label: (x) => `bare node:http server process: JSON OIP request decoded (common/oip), input answered as output; ${CONNECTIONS} closed-loop keep-alive clients, ${ms} ms a rep; ${loadText(x)}`,
  };
});

const gridline = fixtureSide('req/s', true, async (ctx, tmp): Promise<Fixture> => {
  const { startGatewayFixture } = await import('./inference-gridline-fixture.js');
  const { measureClosedLoop } = await import('./inference-clients.js');
  const fixture = await startGatewayFixture(ctx, tmp, { models: [TINY_MODEL.entry('tiny')], protocol: 'rest-json', model: 'tiny', kind: TINY_MODEL, connections: CONNECTIONS, warmUpMs: warmUpMs(ctx.options) });
  const ms = loadMs(ctx.options);
  return {
    stop: () => fixture.stop(),
    measure: async (signal) => measured(await measureClosedLoop(() => fixture.client.call(), { clients: CONNECTIONS, durationMs: ms, signal })),
    label: (x) => `gateway → 1 worker process, ${TINY_MODEL.what}, repository default batching, REST with JSON tensors; ${CONNECTIONS} closed-loop keep-alive clients, ${ms} ms a rep; ${loadText(x)}`,
  };
});

export const inferenceGatewayRateBench: BenchDefinition = {
  name: 'inference-gateway-rate',
  description: `req/s of small JSON OIP requests, ${CONNECTIONS} clients: gateway → worker (tiny model) vs a bare node:http server doing the same parse and reply`,
  target: { text: 'ratio ≥ 0.5', check: ({ ratio }) => (ratio === null ? null : ratio >= 0.5) },
  sides: { baseline, gridline },
  // The fixtures warm the servers up before the first repetition; quick runs skip the warm-up round.
  rounds: (o) => (o.quick ? { warmup: 0, reps: 2 } : { warmup: 1, reps: 3 }),
  timeoutMs: (o) => (o.quick ? 90_000 : 240_000),
};

/**
 * inference-throughput-*: rows/s with 64 concurrent clients, each sending one row per request.
 *
 * baseline: onnxruntime-node in one process, back-to-back runs at each batch size from 1 to 32;
 * the figure is the best batch size's rows/s (what the runtime alone can do on this machine).
 *
 * gridline: coordinator (this process, which also runs the clients), one worker process serving
 * the model from a repository, and a gateway process; 64 closed-loop clients send one-row requests
 * to the gateway over gRPC (4 channels) or REST with binary tensors (64 keep-alive connections).
 * Dynamic batching on is the repository default (no config.json); off is
 * `config.json {"batching":{"maxBatchSize":1}}`. The label carries the latency under load and
 * the cores the client process used (near 1.0 would make the client the bottleneck).
 */
import type { BenchDefinition, BenchOptions } from './harness.js';
import type { GatewayProtocol } from './inference-gridline-fixture.js';
import { CLS_MODEL, NO_BATCHING, TINY_MODEL, type BenchModelKind } from './inference-models.js';
import { fixtureSide, fmt, loadInProcess, selfPeak, sweepBatchSizes, warmUpMs, type Fixture } from './inference-side.js';

const CLIENTS = 64;

function durations(options: BenchOptions): { loadMs: number; sweepMsPerSize: number; sizes: readonly number[] } {
  return options.quick
    ? { loadMs: 1_000, sweepMsPerSize: 120, sizes: [1, 2, 4, 8, 16, 32] }
    : { loadMs: 5_000, sweepMsPerSize: 600, sizes: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32] };
}

/** In-process onnxruntime-node at its best batch size. */
function inProcessBestBatch(kind: BenchModelKind): BenchDefinition['sides']['baseline'] {
  return fixtureSide('rows/s', true, async (ctx, tmp): Promise<Fixture> => {
    const { sweepMsPerSize, sizes } = durations(ctx.options);
    const runtime = await loadInProcess(kind, tmp);
    const stop = async (): Promise<ReturnType<typeof selfPeak>> => {
      const peaks = selfPeak('bench (onnxruntime-node in-process)');
      await runtime.close();
      return peaks;
    };
    return {
      stop,
      async measure(signal) {
        const { best, rows } = await sweepBatchSizes(runtime, kind, sizes, sweepMsPerSize, signal);
        const table = rows.map((r) => `${r.batch}:${fmt(r.rowsPerSecond)}`).join(' ');
        return {
          figure: best.rowsPerSecond,
          line: `best batch ${best.batch}: ${fmt(best.rowsPerSecond)} rows/s (${fmt(best.msPerCall)} ms a run); rows/s by batch ${table}`,
          extra: { bestBatch: best.batch, bestMsPerCall: best.msPerCall },
          details: { sweep: rows },
        };
      },
      label: (_x, reps) => `onnxruntime-node in-process (CPU, default threads), ${kind.what}; back-to-back runs at batch sizes ${sizes.join(',')} for ${sweepMsPerSize} ms each, best taken ` +
        `(best batch per rep: ${reps.map((r) => `${r.extra['bestBatch']} at ${fmt(r.extra['bestMsPerCall'] ?? Number.NaN)} ms a run`).join(', ')})`,
    };
  });
}

/** 64 clients through the gateway. */
function throughGateway(kind: BenchModelKind, protocol: GatewayProtocol, batching: boolean): BenchDefinition['sides']['gridline'] {
  return fixtureSide('rows/s', true, async (ctx, tmp): Promise<Fixture> => {
    const { loadMs } = durations(ctx.options);
    const { startGatewayFixture, PROTOCOL_TEXT } = await import('./inference-gridline-fixture.js');
    const { measureClosedLoop } = await import('./inference-clients.js');
    const { DEFAULT_MODEL_BATCHING } = await import('../worker-node/model-server/served-model-spec.js');
    const fixture = await startGatewayFixture(ctx, tmp, {
      models: [kind.entry('model', batching ? undefined : NO_BATCHING)],
      protocol, model: 'model', kind, connections: CLIENTS, warmUpMs: warmUpMs(ctx.options),
    });
    const batchText = batching
      ? `dynamic batching on (repository default: maxBatchSize ${DEFAULT_MODEL_BATCHING.maxBatchSize}, maxQueueDelayMs ${DEFAULT_MODEL_BATCHING.maxQueueDelayMs})`
      : 'dynamic batching off (config.json maxBatchSize 1)';
    return {
      stop: () => fixture.stop(),
      async measure(signal) {
        const r = await measureClosedLoop(() => fixture.client.call(), { clients: CLIENTS, durationMs: loadMs, signal });
        return {
          figure: r.perSecond,
          line: `${fmt(r.perSecond)} rows/s in the ${loadMs} ms window (${r.completed} requests); latency p50 ${fmt(r.p50Ms)} ms p99 ${fmt(r.p99Ms)} ms; client process ${fmt(r.clientCores)} cores; ${r.failed} failed`,
          extra: { p50Ms: r.p50Ms, p99Ms: r.p99Ms, clientCores: r.clientCores, failed: r.failed },
        };
      },
      label: (x) => `gateway → 1 worker process, ${kind.what}, ${CLIENTS} closed-loop clients over ${PROTOCOL_TEXT[protocol]}, ${loadMs} ms a rep, ${batchText}; ` +
        `median latency p50 ${fmt(x['p50Ms'] ?? Number.NaN)} ms p99 ${fmt(x['p99Ms'] ?? Number.NaN)} ms; client process (+ idle coordinator) ${fmt(x['clientCores'] ?? Number.NaN)} cores`,
    };
  });
}

function throughputBench(name: string, kind: BenchModelKind, protocol: GatewayProtocol, batching: boolean, minRatio: number | null): BenchDefinition {
  const model = kind === CLS_MODEL ? 'cls model' : 'tiny model';
  return {
    name,
    description: `rows/s, ${CLIENTS} clients, ${model} over ${protocol}, batching ${batching ? 'on' : 'off'}: gateway → worker vs onnxruntime-node in-process at its best batch size`,
    target: minRatio === null
      ? { text: 'report only', check: () => null }
      : { text: `ratio ≥ ${minRatio}`, check: ({ ratio }) => (ratio === null ? null : ratio >= minRatio) },
    sides: { baseline: inProcessBestBatch(kind), gridline: throughGateway(kind, protocol, batching) },
    // The fixture warms the processes up before the first repetition; quick runs skip the warm-up round.
    rounds: (o) => (o.quick ? { warmup: 0, reps: 2 } : { warmup: 1, reps: 3 }),
    timeoutMs: (o) => (o.quick ? 90_000 : 240_000),
  };
}

// The 0.8 target of ../shared/design/PERFORMANCE.md is for dynamic batching; without it the
// figure shows what batching earns.
export const inferenceThroughputGrpcBench = throughputBench('inference-throughput-grpc', CLS_MODEL, 'grpc', true, 0.8);
export const inferenceThroughputRestBench = throughputBench('inference-throughput-rest', CLS_MODEL, 'rest-binary', true, 0.8);
export const inferenceThroughputGrpcNoBatchBench = throughputBench('inference-throughput-grpc-nobatch', CLS_MODEL, 'grpc', false, null);
export const inferenceThroughputRestNoBatchBench = throughputBench('inference-throughput-rest-nobatch', CLS_MODEL, 'rest-binary', false, null);
export const inferenceThroughputTinyBench = throughputBench('inference-throughput-tiny', TINY_MODEL, 'grpc', true, null);

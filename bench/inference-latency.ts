/**
 * inference-latency-*: one request in flight, the tiny add-one model (f32[1,16]), p50 per rep.
 *
 * baseline: onnxruntime-node called in this process (main thread), one run after the other.
 *
 * gridline: coordinator (this process, which also runs the client), one worker process serving
 * the model from a repository with its default batching, and a gateway process; one client sends
 * one request after the other over gRPC or REST with binary tensors. The target is on the added
 * p50 (gridline p50 − baseline p50); p99 and the client's CPU are in the label.
 */
import type { BenchDefinition, BenchOptions, SideResult } from './harness.js';
import type { GatewayProtocol } from './inference-gridline-fixture.js';
import { TINY_MODEL } from './inference-models.js';
import { batchFeeds, fixtureSide, fmt, loadInProcess, selfPeak, warmUpMs, type Fixture } from './inference-side.js';

const ADDED_P50_TARGET_MS = 1.5;

function requests(options: BenchOptions): number {
  return options.quick ? 250 : 3_000;
}

const baseline = fixtureSide('ms', false, async (ctx, tmp): Promise<Fixture> => {
  const { measureSequential } = await import('./inference-clients.js');
  const runtime = await loadInProcess(TINY_MODEL, tmp);
  const feeds = batchFeeds(TINY_MODEL, 1);
  const n = requests(ctx.options);
  const end = performance.now() + warmUpMs(ctx.options);
  while (performance.now() < end) await runtime.run(feeds);
  return {
    async stop() {
      const peaks = selfPeak('bench (onnxruntime-node in-process)');
      await runtime.close();
      return peaks;
    },
    async measure(signal) {
      const r = await measureSequential(() => runtime.run(feeds), n, signal);
      return {
        figure: r.p50Ms,
        line: `${n} runs: p50 ${fmt(r.p50Ms * 1000)} µs, p99 ${fmt(r.p99Ms * 1000)} µs`,
        extra: { p50Ms: r.p50Ms, p99Ms: r.p99Ms },
      };
    },
    label: (x) => `onnxruntime-node in-process (CPU), ${TINY_MODEL.what}, ${n} runs one after the other; median p99 ${fmt((x['p99Ms'] ?? Number.NaN) * 1000)} µs`,
  };
});

function throughGateway(protocol: GatewayProtocol): BenchDefinition['sides']['gridline'] {
  return fixtureSide('ms', false, async (ctx, tmp): Promise<Fixture> => {
    const { startGatewayFixture, PROTOCOL_TEXT } = await import('./inference-gridline-fixture.js');
    const { measureSequential } = await import('./inference-clients.js');
    const { DEFAULT_MODEL_BATCHING } = await import('../worker-node/model-server/served-model-spec.js');
    const fixture = await startGatewayFixture(ctx, tmp, { models: [TINY_MODEL.entry('tiny')], protocol, model: 'tiny', kind: TINY_MODEL, connections: 1, warmUpMs: warmUpMs(ctx.options) });
    const n = requests(ctx.options);
    return {
      stop: () => fixture.stop(),
      async measure(signal) {
        const r = await measureSequential(() => fixture.client.call(), n, signal);
        return {
          figure: r.p50Ms,
          line: `${n} requests: p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms; client process ${fmt(r.clientCores)} cores`,
          extra: { p50Ms: r.p50Ms, p99Ms: r.p99Ms, clientCores: r.clientCores },
        };
      },
      label: (x) => `gateway → 1 worker process, ${TINY_MODEL.what}, repository default batching (maxBatchSize ${DEFAULT_MODEL_BATCHING.maxBatchSize}, maxQueueDelayMs ${DEFAULT_MODEL_BATCHING.maxQueueDelayMs}), ` +
        `1 client over ${PROTOCOL_TEXT[protocol]}, ${n} requests one after the other; median p99 ${fmt(x['p99Ms'] ?? Number.NaN)} ms; client process ${fmt(x['clientCores'] ?? Number.NaN)} cores`,
    };
  });
}

/** gridline p50 − baseline p50, from the harness's ratio (baseline ÷ gridline for a lower-is-better figure). */
function addedP50Ms(ratio: number | null, gridline: SideResult | null): number | null {
  if (ratio === null || gridline === null) return null;
  return gridline.median * (1 - ratio);
}

function latencyBench(name: string, protocol: GatewayProtocol): BenchDefinition {
  return {
    name,
    description: `p50 latency, one request in flight, tiny model over ${protocol}: gateway → worker vs onnxruntime-node in-process`,
    target: {
      text: `added p50 ≤ ${ADDED_P50_TARGET_MS} ms`,
      check: ({ ratio, gridline }) => {
        const added = addedP50Ms(ratio, gridline);
        return added === null ? null : added <= ADDED_P50_TARGET_MS;
      },
    },
    sides: { baseline, gridline: throughGateway(protocol) },
    // The fixture warms the processes up before the first repetition; quick runs skip the warm-up round.
    rounds: (o) => (o.quick ? { warmup: 0, reps: 2 } : { warmup: 1, reps: 5 }),
    timeoutMs: (o) => (o.quick ? 90_000 : 240_000),
  };
}

export const inferenceLatencyGrpcBench = latencyBench('inference-latency-grpc', 'grpc');
export const inferenceLatencyRestBench = latencyBench('inference-latency-rest', 'rest-binary');

/**
 * Every benchmark bench/run.ts knows, in the order they run. Loaded on demand, so a side's child
 * process loads its own benchmark's modules only (they count in its peak RSS).
 */
import type { BenchDefinition } from './harness.js';

export interface BenchEntry {
  readonly name: string;
  load(): Promise<BenchDefinition>;
}

export const BENCHES: readonly BenchEntry[] = [
  { name: 'pipeline-trivial', load: async () => (await import('./pipeline-trivial.js')).pipelineTrivialBench },
  { name: 'pipeline-ocr', load: async () => (await import('./pipeline-ocr.js')).pipelineOcrBench },
  { name: 'placement', load: async () => (await import('./placement.js')).placementBench },
  { name: 'coordinator-heartbeats', load: async () => (await import('./coordinator-heartbeats.js')).coordinatorHeartbeatsBench },
  { name: 'failover', load: async () => (await import('./failover.js')).failoverBench },
  { name: 'inference-latency-grpc', load: async () => (await import('./inference-latency.js')).inferenceLatencyGrpcBench },
  { name: 'inference-latency-rest', load: async () => (await import('./inference-latency.js')).inferenceLatencyRestBench },
  { name: 'inference-throughput-grpc', load: async () => (await import('./inference-throughput.js')).inferenceThroughputGrpcBench },
  { name: 'inference-throughput-rest', load: async () => (await import('./inference-throughput.js')).inferenceThroughputRestBench },
  { name: 'inference-throughput-grpc-nobatch', load: async () => (await import('./inference-throughput.js')).inferenceThroughputGrpcNoBatchBench },
  { name: 'inference-throughput-rest-nobatch', load: async () => (await import('./inference-throughput.js')).inferenceThroughputRestNoBatchBench },
  { name: 'inference-throughput-tiny', load: async () => (await import('./inference-throughput.js')).inferenceThroughputTinyBench },
  { name: 'inference-gateway-rate', load: async () => (await import('./inference-gateway-rate.js')).inferenceGatewayRateBench },
];

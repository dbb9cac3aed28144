import { Registry } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import type { TlsMaterial } from '../../common/tls/tls-material.js';
import type { GpuInfo } from '../gpu/gpu-info.js';
import { startGpuStatsSampler, type GpuStatsSampler, type GpuStatsSource } from '../gpu/gpu-stats.js';
import { startMetricsServer } from './metrics-server.js';
import { processMetrics } from './process-metrics.js';

export interface WorkerMetricsOptions {
  readonly host: string;
  /** HTTPS with the node's certificate; null or absent: plain HTTP. */
  readonly tls?: TlsMaterial | null;
  /** 0: a free port. */
  readonly port: number;
  /** The GPUs the node offers; GPU load is sampled only when one of them is real. */
  readonly gpus: readonly GpuInfo[];
  /** The model server's registry, when the node runs one. */
  readonly modelServer?: Registry;
  readonly logger: Logger;
  /** Default: nvidia-smi; tests pass canned readings. */
  readonly gpuStats?: GpuStatsSource;
  /** Default 5 s. */
  readonly gpuStatsIntervalMs?: number;
}

export interface WorkerMetrics {
  readonly port: number;
  /** host:port of /metrics and /healthz. */
  readonly address: string;
  /** Stops the GPU sampler and the HTTP server. */
  stop(): Promise<void>;
}

/**
 * The worker process's /metrics: the model server's series, GPU load and process stats.
 *
 * Simulated GPUs (`--gpus sim:...`) export nothing: there is no device to measure, and a made-up
 * series under the same names would add phantom capacity to every dashboard that sums them. Their
 * declared memory is already in the node's registration (`gridline nodes`).
 */
export async function startWorkerMetrics(options: WorkerMetricsOptions): Promise<WorkerMetrics> {
  const registries: Registry[] = [];
  if (options.modelServer) registries.push(options.modelServer);
  let sampler: GpuStatsSampler | null = null;
  if (options.gpus.some((g) => !g.simulated)) {
    const gpuRegistry = new Registry();
    sampler = startGpuStatsSampler({
      registry: gpuRegistry,
      logger: options.logger,
      ...(options.gpuStats ? { source: options.gpuStats } : {}),
      ...(options.gpuStatsIntervalMs !== undefined ? { intervalMs: options.gpuStatsIntervalMs } : {}),
    });
    registries.push(gpuRegistry);
  }
  registries.push(processMetrics());
  const server = await startMetricsServer({ host: options.host, port: options.port, tls: options.tls ?? null, registries, logger: options.logger })
    .catch(async (err: unknown) => {
      await sampler?.stop();
      throw err;
    });
  return {
    port: server.port,
    address: server.address,
    async stop() {
      await Promise.all([sampler?.stop(), server.stop()]);
    },
  };
}

import type { Logger } from '../../common/logger.js';
import { GridlineError } from '../../common/errors.js';
import { startWorkerNode } from '../../worker-node/worker-node.js';
import { serverTls, type ServerTlsFlags } from '../tls/server-tls.js';

export interface WorkerCommandOptions extends ServerTlsFlags {
  readonly coordinator: string;
  readonly joinToken: string | undefined;
  readonly nodeId?: string;
  readonly gpus?: string;
  readonly label: readonly string[];
  readonly redisUrl?: string;
  readonly modelRepository?: string;
  readonly inferenceHost?: string;
  readonly inferencePort?: number;
  readonly advertiseInferenceHost?: string;
  readonly modelThreads?: number;
  /** on | off (default: onnxruntime's, on). */
  readonly modelSpinWait?: string;
  /** Undefined: GRIDLINE_WORKER_METRICS_PORT, else no metrics endpoint. */
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  /** Undefined: the working directory only. */
  readonly allowedDirs?: readonly string[] | undefined;
  /** Undefined: none. */
  readonly opModuleDirs?: readonly string[] | undefined;
}

/** `gridline worker`: joins a cluster and runs what the coordinator assigns until stopped. */
export async function workerCommand(options: WorkerCommandOptions, logger: Logger): Promise<number> {
  const joinToken = options.joinToken ?? process.env.GRIDLINE_JOIN_TOKEN;
  if (!joinToken) {
    throw new GridlineError('INVALID_ARGUMENT', 'a join token is required: pass --join-token TOKEN (printed by `gridline up`) or set GRIDLINE_JOIN_TOKEN');
  }
  const labels: Record<string, string> = {};
  for (const l of options.label) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw new GridlineError('INVALID_ARGUMENT', `--label "${l}" must be key=value`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const coordinator = options.coordinator.replace(/^grpc:\/\//, '');
  const spin = options.modelSpinWait?.trim().toLowerCase();
  if (spin !== undefined && spin !== '' && spin !== 'on' && spin !== 'off') {
    throw new GridlineError('INVALID_ARGUMENT', `--model-spin-wait must be on or off, got "${options.modelSpinWait}"`);
  }
  const metricsPort = options.metricsPort ?? portFromEnv('GRIDLINE_WORKER_METRICS_PORT');
  const tls = await serverTls(options, 'worker', [
    { what: 'worker model server', host: options.inferenceHost ?? '127.0.0.1', hostFlag: '--inference-host' },
    ...(metricsPort === undefined ? [] : [{ what: 'worker metrics endpoint', host: options.metricsHost ?? '127.0.0.1', hostFlag: '--metrics-host' }]),
  ], logger);
  const node = await startWorkerNode({
    coordinator, joinToken, labels, tls,
    ...(options.nodeId ? { nodeId: options.nodeId } : {}),
    ...(options.gpus ? { gpus: options.gpus } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    ...(options.modelRepository ? { modelRepository: options.modelRepository } : {}),
    ...(options.inferenceHost ? { inferenceHost: options.inferenceHost } : {}),
    ...(options.inferencePort !== undefined ? { inferencePort: options.inferencePort } : {}),
    ...(options.advertiseInferenceHost ? { advertiseInferenceHost: options.advertiseInferenceHost } : {}),
    ...(options.modelThreads !== undefined ? { modelThreads: options.modelThreads } : {}),
    ...(spin === 'on' || spin === 'off' ? { modelSpinWait: spin === 'on' } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    ...(options.metricsHost ? { metricsHost: options.metricsHost } : {}),
    ...(options.allowedDirs ? { allowedDirs: options.allowedDirs } : {}),
    ...(options.opModuleDirs ? { opModuleDirs: options.opModuleDirs } : {}),
  }, logger);
  const signal = await new Promise<string>((resolve) => {
    const on = (name: string) => () => resolve(name);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
    void node.fatal.then((err) => resolve(`fatal: ${err.message}`));
  });
  logger.info({ node: node.nodeId, reason: signal }, 'worker stopping');
  await node.stop({ drain: true });
  return signal.startsWith('fatal') ? 1 : 0;
}

/** A port from the environment; unset or empty: undefined. Read here, so a bad value fails only `worker`. */
function portFromEnv(name: string): number | undefined {
  const value = process.env[name]?.trim();
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new GridlineError('INVALID_ARGUMENT', `${name} must be a port from 0 to 65535, got "${value}"`);
  }
  return port;
}

import type { Logger } from '../../common/logger.js';
import { startLocalCluster, waitForNodes } from '../local-cluster.js';

export interface UpOptions {
  readonly workers: number;
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly gatewayPort: number;
  readonly gatewayGrpcPort: number;
  readonly redisUrl: string | null;
  readonly dataDir: string;
  readonly gpus?: string;
}

/** `gridline up`: a local cluster that runs until Ctrl-C. */
export async function upCommand(options: UpOptions, logger: Logger): Promise<void> {
  // Listen for Ctrl-C / SIGTERM from the start: a signal while workers come up must still stop them.
  let stopRequested = false;
  let wake: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const onSignal = (): void => {
    stopRequested = true;
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let cluster;
  try {
    cluster = await startLocalCluster({ ...options, logger, gateway: { httpPort: options.gatewayPort, grpcPort: options.gatewayGrpcPort } });
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw err;
  }
  const { coordinator } = cluster;
  const waiting = new AbortController();
  void stopSignal.then(() => waiting.abort());
  await waitForNodes(coordinator, options.workers, 60_000, waiting.signal).catch((err: Error) => logger.warn(err.message));
  if (stopRequested) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cluster.stop();
    return;
  }
  process.stdout.write([
    '',
    'gridline is up',
    `  coordinator API   ${coordinator.httpUrl}   (GRIDLINE_COORDINATOR)`,
    `  coordinator gRPC  ${coordinator.grpcAddress}   (workers join here)`,
    `  gateway           http://${options.host}:${cluster.gateway?.httpPort ?? options.gatewayPort} (OIP REST), ${options.host}:${cluster.gateway?.grpcPort ?? options.gatewayGrpcPort} (OIP gRPC)`,
    `  redis             ${cluster.redisUrl.replace(/\/\/[^@]*@/, '//***@')}`,
    `  workers           ${options.workers} (logs: ${cluster.workerLogs.join(', ') || 'none'})`,
    `  join token        ${coordinator.joinToken}`,
    '',
    `Add a worker:  npx gridline worker --coordinator ${coordinator.grpcAddress} --join-token ${coordinator.joinToken}`,
    '  (with --model-repository DIR it serves DIR/<model>/<version>/model.onnx through the gateway)',
    'Run a pipeline: npx gridline submit pipelines/ocr.yaml --wait',
    'Stop: Ctrl-C',
    '',
  ].join('\n'));
  await stopSignal;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.stdout.write('stopping...\n');
  await cluster.stop();
}

import type { Logger } from '../../common/logger.js';
import { startLocalCluster, waitForNodes, type LocalClusterTls } from '../local-cluster.js';
import { loadServerTls } from '../tls/load-tls.js';
import { serverTls, tlsFlagArgs, type ServerTlsFlags } from '../tls/server-tls.js';

export interface UpOptions extends ServerTlsFlags {
  readonly workers: number;
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly gatewayPort: number;
  readonly gatewayGrpcPort: number;
  readonly redisUrl: string | null;
  readonly dataDir: string;
  readonly gpus?: string;
  /** Undefined: the working directory only. */
  readonly allowedDirs?: readonly string[] | undefined;
  /** Undefined: none. */
  readonly opModuleDirs?: readonly string[] | undefined;
}

/** `gridline up`: a local cluster that runs until Ctrl-C. */
export async function upCommand(options: UpOptions, logger: Logger): Promise<void> {
  // Each part gets its role's certificate from --tls-dir (or the one given with --tls-cert); the
  // workers read theirs themselves.
  const coordinatorTls = await serverTls(options, 'coordinator', [{ what: 'coordinator and gateway', host: options.host, hostFlag: '--host' }], logger);
  const gatewayTls = coordinatorTls === null ? null : await loadServerTls(options, 'gateway');
  const tls: LocalClusterTls | null = coordinatorTls === null || gatewayTls === null
    ? null
    : { coordinator: coordinatorTls, gateway: gatewayTls, workerArgs: tlsFlagArgs(options) };
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
    cluster = await startLocalCluster({ ...options, logger, tls, gateway: { httpPort: options.gatewayPort, grpcPort: options.gatewayGrpcPort } });
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
    `  gateway           ${tls === null ? 'http' : 'https'}://${options.host}:${cluster.gateway?.httpPort ?? options.gatewayPort} (OIP REST), ${options.host}:${cluster.gateway?.grpcPort ?? options.gatewayGrpcPort} (OIP gRPC)`,
    `  redis             ${cluster.redisUrl.replace(/\/\/[^@]*@/, '//***@')}`,
    `  workers           ${options.workers} (logs: ${cluster.workerLogs.join(', ') || 'none'})`,
    `  join token        ${coordinator.joinToken}   (valid 24 h; more with \`gridline token create\`)`,
    // An operator's own static key is theirs to know: not echoed.
    `  admin API key     ${cluster.adminKey.file === null ? 'the one in GRIDLINE_ADMIN_KEY' : `${cluster.adminKey.key}   (kept in ${cluster.adminKey.file}: CLI commands run here use it)`}`,
    '',
    `Add a worker:  npx gridline worker --coordinator ${coordinator.grpcAddress} --join-token ${coordinator.joinToken}${tls === null ? '' : ` --tls-dir ${options.tlsDir ?? 'DIR'}`}`,
    '  (with --model-repository DIR it serves DIR/<model>/<version>/model.onnx through the gateway)',
    'Run a pipeline: npx gridline submit pipelines/ocr.yaml --wait',
    'A key for inference clients only:  npx gridline key create --scope infer --name my-app',
    'Stop: Ctrl-C',
    '',
  ].join('\n'));
  await stopSignal;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.stdout.write('stopping...\n');
  await cluster.stop();
}

import type { Logger } from '../../common/logger.js';
import { RoutingTable, startGateway, watchRoutes } from '../../gateway/index.js';
import type { CoordinatorClient } from '../coordinator-client.js';

export interface GatewayCommandOptions {
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
}

/** `gridline gateway`: an inference gateway following the coordinator's routes watch; more than one may run. */
export async function gatewayCommand(options: GatewayCommandOptions, client: CoordinatorClient, logger: Logger): Promise<void> {
  const table = new RoutingTable();
  const watch = watchRoutes(client.baseUrl, table, { logger });
  const gateway = await startGateway({ host: options.host, httpPort: options.httpPort, grpcPort: options.grpcPort, table, logger });
  process.stdout.write(`${JSON.stringify({ event: 'listening', http: gateway.httpPort, grpc: gateway.grpcPort, coordinator: client.baseUrl })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  watch.stop();
  await gateway.stop();
}

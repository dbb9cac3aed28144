import type { Logger } from '../../common/logger.js';
import type { RoutesSnapshot } from '../../common/model-routes.js';
import { RoutingTable, startGateway } from '../../gateway/index.js';
import type { CoordinatorClient } from '../coordinator-client.js';
import { followRoutes } from '../route-feed.js';

export interface GatewayCommandOptions {
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
}

/** `gridline gateway`: an inference gateway fed by the coordinator's routes; more than one may run. */
export async function gatewayCommand(options: GatewayCommandOptions, client: CoordinatorClient, logger: Logger): Promise<void> {
  const table = new RoutingTable();
  const feed = followRoutes(() => client.request<RoutesSnapshot>('GET', '/v1/routes'), table, { intervalMs: 1_000, logger });
  const gateway = await startGateway({ host: options.host, httpPort: options.httpPort, grpcPort: options.grpcPort, table, logger });
  process.stdout.write(`${JSON.stringify({ event: 'listening', http: gateway.httpPort, grpc: gateway.grpcPort, coordinator: client.baseUrl })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  feed.stop();
  await gateway.stop();
}

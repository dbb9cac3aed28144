import type { Logger } from '../../common/logger.js';
import { GatewayAccess, RoutingTable, startGateway, watchRoutes } from '../../gateway/index.js';
import type { CoordinatorClient } from '../coordinator-client.js';
import { serverTls, type ServerTlsFlags } from '../tls/server-tls.js';

export interface GatewayCommandOptions extends ServerTlsFlags {
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
}

/** `gridline gateway`: an inference gateway following the coordinator's routes watch; more than one may run. */
export async function gatewayCommand(options: GatewayCommandOptions, client: CoordinatorClient, logger: Logger): Promise<void> {
  // Its certificate also makes it a client the coordinator (https) and the model servers (mutual TLS) trust.
  const tls = await serverTls(options, 'gateway', [{ what: 'gateway (OIP REST and gRPC)', host: options.host, hostFlag: '--host' }], logger);
  const table = new RoutingTable();
  // Callers are checked against the keys the coordinator sends on the watch (this gateway's own
  // key needs the gateway scope); until they arrive every call is refused.
  const access = new GatewayAccess();
  const watch = watchRoutes(client.baseUrl, table, { logger, tls, access, authorization: client.authorization });
  const gateway = await startGateway({ host: options.host, httpPort: options.httpPort, grpcPort: options.grpcPort, table, logger, tls, access });
  process.stdout.write(`${JSON.stringify({ event: 'listening', http: gateway.httpPort, grpc: gateway.grpcPort, coordinator: client.baseUrl })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  watch.stop();
  await gateway.stop();
}

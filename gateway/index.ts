// The inference gateway's public surface, for cli/ (and test/, bench/) to wire up.
export { startGateway } from './gateway.js';
export { GatewayAccess } from './gateway-access.js';
export type { GatewayOptions, RunningGateway } from './gateway.js';
export { RoutingTable, compareVersions } from './routing-table.js';
export type { ModelRoute, ReplicaRoute, RoutingTableSink, RoutingTableView, RoutingUpdate } from './routing-table.js';
export type { LoadBalancerOptions, ReplicaLoad } from './load-balancer.js';
export type { GatewayMetrics } from './gateway-metrics.js';
export { DEFAULT_BODY_LIMIT_BYTES } from './rest-server.js';
export { watchRoutes } from './route-watch.js';
export type { RouteWatch, RouteWatchOptions } from './route-watch.js';

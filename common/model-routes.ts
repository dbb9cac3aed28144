/**
 * Service discovery for inference: which worker serves which model version, and where. The
 * coordinator builds it from its node registry; gateways route with it.
 */
export interface ReplicaRouteView {
  /** The node id. */
  readonly id: string;
  /** host:port of the node's OIP gRPC server. */
  readonly address: string;
  readonly ready: boolean;
}

export interface ModelRouteView {
  readonly model: string;
  readonly version: string;
  readonly replicas: readonly ReplicaRouteView[];
}

export interface RoutesSnapshot {
  /** Grows with every change the coordinator sees; lets a gateway ignore stale snapshots. */
  readonly revision: number;
  readonly models: readonly ModelRouteView[];
}

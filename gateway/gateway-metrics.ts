import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Protocol = 'rest' | 'grpc';

/** The gateway's Prometheus metrics, in a registry of their own. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'model' | 'protocol' | 'outcome'>;
  readonly duration: Histogram<'model' | 'protocol'>;
  readonly inflight: Gauge<'protocol'>;
  readonly ejections: Counter<'model' | 'replica'>;
  readonly replicaAttempts: Counter<'model' | 'replica' | 'outcome'>;

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'gridline_gateway_requests_total',
      help: 'Inference requests by model, protocol and outcome (ok or the gRPC status name).',
      labelNames: ['model', 'protocol', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'gridline_gateway_request_duration_seconds',
      help: 'Inference request duration through the gateway, from request received to response ready.',
      labelNames: ['model', 'protocol'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.inflight = new Gauge({
      name: 'gridline_gateway_inflight_requests',
      help: 'Inference requests in flight in the gateway.',
      labelNames: ['protocol'],
      registers,
    });
    this.ejections = new Counter({
      name: 'gridline_gateway_replica_ejections_total',
      help: 'Replicas ejected by outlier detection (consecutive failures).',
      labelNames: ['model', 'replica'],
      registers,
    });
    // Per replica, so an operator sees how the balancer spreads load and which replica fails.
    this.replicaAttempts = new Counter({
      name: 'gridline_gateway_replica_attempts_total',
      help: 'Inference attempts sent to each replica, by outcome; a request retried elsewhere counts once per replica tried.',
      labelNames: ['model', 'replica', 'outcome'],
      registers,
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

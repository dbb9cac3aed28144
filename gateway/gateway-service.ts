import { status } from '@grpc/grpc-js';
import { GridlineError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ModelMetadataResponse__Output } from '../proto/generated/inference/ModelMetadataResponse.js';
import { grpcCodeOf, outcomeOf } from './gateway-errors.js';
import type { GatewayMetrics, Protocol } from './gateway-metrics.js';
import type { LoadBalancer } from './load-balancer.js';
import type { ReplicaClientPool } from './replica-client-pool.js';
import type { RoutingTableView } from './routing-table.js';

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export interface GatewayServiceOptions {
  readonly table: RoutingTableView;
  readonly balancer: LoadBalancer;
  readonly pool: ReplicaClientPool;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Deadline of a request that names none (default 30 s). */
  readonly defaultTimeoutMs?: number;
  /** Longest deadline a client may ask for (default 10 min). */
  readonly maxTimeoutMs?: number;
  readonly server?: Partial<ServerMetadata>;
  readonly now?: () => number;
}

/** A model's metadata as both front doors answer it (shapes as numbers, -1 variable). */
export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

/** What the REST and gRPC front doors share: health, metadata, and requests through the balancer. */
export class GatewayService {
  readonly table: RoutingTableView;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly serverMetadata: ServerMetadata;
  private readonly balancer: LoadBalancer;
  private readonly pool: ReplicaClientPool;
  private readonly defaultTimeoutMs: number;
  private readonly maxTimeoutMs: number;
  readonly now: () => number;

  constructor(options: GatewayServiceOptions) {
    this.table = options.table;
    this.balancer = options.balancer;
    this.pool = options.pool;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
    this.maxTimeoutMs = options.maxTimeoutMs ?? 600_000;
    this.now = options.now ?? Date.now;
    this.serverMetadata = {
      name: options.server?.name ?? 'gridline',
      version: options.server?.version ?? '0.1.0',
      extensions: options.server?.extensions ?? ['binary_tensor_data'],
    };
  }

  /** The absolute deadline of a request: the client's timeout (ms, capped), or the default. */
  deadlineFor(timeoutMs: number | undefined): number {
    const ms = timeoutMs === undefined || !Number.isFinite(timeoutMs) ? this.defaultTimeoutMs : Math.min(timeoutMs, this.maxTimeoutMs);
    return this.now() + Math.max(0, ms);
  }

  /** Live as long as the process answers. */
  isLive(): boolean {
    return true;
  }

  /** Ready when at least one model has a ready replica. */
  isReady(): boolean {
    return this.table.routes().some((route) => route.replicas.some((r) => r.ready));
  }

  /** Forwards a serialized ModelInferRequest to a replica of the model; the serialized response. */
  infer(model: string, version: string, request: Buffer, deadline: number, signal?: AbortSignal): Promise<Buffer> {
    return this.balancer.call(model, version, deadline, async ({ replica, deadline: d }) => {
      let outcome = 'ok';
      try {
        return await this.pool.get(replica.address).modelInfer(request, { deadline: d, signal });
      } catch (err) {
        outcome = outcomeOf(err);
        throw err;
      } finally {
        this.metrics.replicaAttempts.inc({ model, replica: replica.id, outcome });
      }
    });
  }

  async modelMetadata(model: string, version: string, deadline: number, signal?: AbortSignal): Promise<ModelMetadata> {
    const answer = await this.balancer.call(model, version, deadline, ({ replica, route, deadline: d }) =>
      this.pool.get(replica.address).modelMetadata({ name: model, version: route.version === '' ? version : route.version }, { deadline: d, signal }));
    return toModelMetadata(answer);
  }

  /**
   * Whether the model is ready: not when the table has no ready replica for it; otherwise as a
   * ready replica answers. NOT_FOUND for a model the table does not hold.
   */
  async modelReady(model: string, version: string, deadline: number, signal?: AbortSignal): Promise<boolean> {
    if (!this.balancer.isReady(model, version)) {
      if (this.table.lookup(model, version) === undefined) {
        throw new GridlineError('NOT_FOUND', this.table.hasModel(model)
          ? `model ${JSON.stringify(model)} has no version ${JSON.stringify(version)}`
          : `unknown model ${JSON.stringify(model)}`);
      }
      return false;
    }
    try {
      const answer = await this.balancer.call(model, version, deadline, ({ replica, route, deadline: d }) =>
        this.pool.get(replica.address).modelReady({ name: model, version: route.version === '' ? version : route.version }, { deadline: d, signal }));
      return answer.ready;
    } catch (err) {
      if (grpcCodeOf(err) === status.UNAVAILABLE) return false;
      throw err;
    }
  }

  /** Runs one inference request with its metrics: in flight, duration and outcome. */
  async observe<T>(protocol: Protocol, model: string, run: () => Promise<T>): Promise<T> {
    const label = this.table.hasModel(model) ? model : '_unknown';
    const started = process.hrtime.bigint();
    this.metrics.inflight.inc({ protocol });
    let outcome = 'ok';
    try {
      return await run();
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      this.metrics.inflight.dec({ protocol });
      this.metrics.requests.inc({ model: label, protocol, outcome });
      this.metrics.duration.observe({ model: label, protocol }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

function toModelMetadata(m: ModelMetadataResponse__Output): ModelMetadata {
  const tensors = (list: ModelMetadataResponse__Output['inputs']): TensorMetadata[] =>
    list.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) }));
  return { name: m.name, versions: m.versions, platform: m.platform, inputs: tensors(m.inputs), outputs: tensors(m.outputs) };
}

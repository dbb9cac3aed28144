import * as grpc from '@grpc/grpc-js';
import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { grpcChannelCredentials } from '../../common/tls/grpc-credentials.js';
import type { TlsMaterial } from '../../common/tls/tls-material.js';
import type { CoordinatorMessage__Output } from '../../proto/generated/gridline/cluster/v1/CoordinatorMessage.js';
import type { NodeMessage } from '../../proto/generated/gridline/cluster/v1/NodeMessage.js';
import type { RegisterRequest } from '../../proto/generated/gridline/cluster/v1/RegisterRequest.js';
import type { RegisterResponse__Output } from '../../proto/generated/gridline/cluster/v1/RegisterResponse.js';
import type { ReplicaState } from '../../proto/generated/gridline/cluster/v1/ReplicaState.js';
import { loadClusterProto } from '../../proto/load-cluster-proto.js';

export interface ControlClientOptions {
  /** host:port of the coordinator's gRPC endpoint. */
  readonly coordinator: string;
  /** TLS to the coordinator, showing this node's certificate (mutual TLS); null or absent: plaintext. */
  readonly tls?: TlsMaterial | null;
  readonly register: Omit<RegisterRequest, 'replicas'>;
  readonly logger: Logger;
  /** Current replica states, sent with every heartbeat. */
  readonly replicaStates: () => ReplicaState[];
  readonly onMessage: (msg: CoordinatorMessage__Output) => void;
  /** Called after each successful registration (first, or after the coordinator forgot us). */
  readonly onRegistered: (res: RegisterResponse__Output) => Promise<void>;
  /** The cluster's service token as the coordinator sends it (on connecting, and when it changes). */
  readonly onServiceToken?: (token: string) => void;
  /** A problem retrying cannot fix (wrong join token): the node should exit. */
  readonly onFatal: (err: GridlineError) => void;
  readonly maxBackoffMs?: number;
}

/**
 * Keeps a node registered and its control stream open. Heartbeats go out at the interval the
 * coordinator set, with ±10% jitter so a fleet restarted together does not beat in step. Any
 * break is followed by a reconnect with capped exponential backoff; a credential the coordinator
 * no longer accepts leads to a fresh registration.
 */
export class ControlClient {
  private readonly client: InstanceType<ReturnType<typeof loadClusterProto>['gridline']['cluster']['v1']['Cluster']>;
  private credential: string | null = null;
  /** The last credential the coordinator issued: it lets a lost node register again after its join token expired. */
  private previousCredential: string | null = null;
  private nodeId: string;
  private heartbeatMs = 1000;
  private stopped = false;
  private stream: grpc.ClientDuplexStream<NodeMessage, CoordinatorMessage__Output> | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private seq = 0;

  constructor(private readonly options: ControlClientOptions) {
    const Cluster = loadClusterProto().gridline.cluster.v1.Cluster;
    this.client = new Cluster(options.coordinator, grpcChannelCredentials(options.tls ?? null), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
    this.nodeId = options.register.nodeId ?? '';
  }

  get id(): string {
    return this.nodeId;
  }

  /** Starts the loop; resolves after the first successful registration. */
  async start(): Promise<void> {
    let first: (() => void) | null = null;
    const registered = new Promise<void>((resolve) => {
      first = resolve;
    });
    this.loop = this.run(() => {
      first?.();
      first = null;
    });
    await registered;
  }

  /** Sends a replica state change at once rather than with the next heartbeat. */
  report(state: ReplicaState): void {
    this.stream?.write({ replica: state });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.end();
    this.wake?.();
    await this.loop;
    this.client.close();
  }

  private async run(onFirstRegistration: () => void): Promise<void> {
    let backoff = 100;
    const maxBackoff = this.options.maxBackoffMs ?? 5_000;
    while (!this.stopped) {
      try {
        if (this.credential === null) {
          const res = await this.registerOnce();
          if (this.stopped) break;
          this.credential = res.nodeCredential;
          this.previousCredential = res.nodeCredential;
          this.nodeId = res.nodeId;
          this.heartbeatMs = res.heartbeatIntervalMs;
          await this.options.onRegistered(res);
          onFirstRegistration();
        }
        const connectedFor = await this.connectOnce();
        if (connectedFor > 5 * this.heartbeatMs) backoff = 100;
      } catch (err) {
        const e = err as grpc.ServiceError;
        if (e.code === grpc.status.PERMISSION_DENIED || (this.credential === null && (e.code === grpc.status.UNAUTHENTICATED || e.code === grpc.status.INVALID_ARGUMENT))) {
          // A wrong token or node id, or a revoked node, will not get better by retrying.
          const code = e.code === grpc.status.UNAUTHENTICATED ? 'UNAUTHENTICATED' : e.code === grpc.status.PERMISSION_DENIED ? 'PERMISSION_DENIED' : 'INVALID_ARGUMENT';
          this.options.onFatal(new GridlineError(code, `the coordinator refused this node: ${e.details || e.message}`));
          return;
        }
        if (e.code === grpc.status.UNAUTHENTICATED) {
          this.options.logger.warn({ reason: e.details }, 'coordinator no longer accepts this node\'s credential: registering again');
          this.credential = null;
        } else if (!this.stopped) {
          this.options.logger.warn({ code: e.code, reason: e.details || e.message, retryInMs: backoff }, 'control link down: reconnecting');
        }
      }
      if (this.stopped) break;
      await this.sleep(backoff * (0.8 + Math.random() * 0.4));
      backoff = Math.min(maxBackoff, backoff * 2);
    }
  }

  private registerOnce(): Promise<RegisterResponse__Output> {
    return new Promise((resolve, reject) => {
      const req: RegisterRequest = { ...this.options.register, nodeId: this.nodeId, replicas: this.options.replicaStates() };
      const metadata = new grpc.Metadata();
      if (this.previousCredential !== null) metadata.set('authorization', `Bearer ${this.previousCredential}`);
      this.client.Register(req, metadata, { deadline: Date.now() + 10_000 }, (err, res) => (err || !res ? reject(err ?? new Error('empty response')) : resolve(res)));
    });
  }

  /** Holds the stream until it breaks; resolves with how long it was up, rejects with the cause. */
  private connectOnce(): Promise<number> {
    return new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${this.credential ?? ''}`);
      metadata.set('x-gridline-node-id', this.nodeId);
      const stream = this.client.Connect(metadata);
      this.stream = stream;
      const since = Date.now();
      let timer: NodeJS.Timeout | null = null;
      const beat = (): void => {
        stream.write({ heartbeat: { seq: String(++this.seq), replicas: this.options.replicaStates(), load1: 0, rssBytes: String(process.memoryUsage.rss()) } });
        timer = setTimeout(beat, this.heartbeatMs * (0.9 + Math.random() * 0.2));
      };
      let settled = false;
      const done = (err: unknown): void => {
        if (timer) clearTimeout(timer);
        if (settled) return;
        settled = true;
        this.stream = null;
        if (err) reject(err);
        else resolve(Date.now() - since);
      };
      stream.on('data', (msg: CoordinatorMessage__Output) => {
        if (msg.settings) {
          this.heartbeatMs = msg.settings.heartbeatIntervalMs || this.heartbeatMs;
          if (msg.settings.serviceToken !== '') this.options.onServiceToken?.(msg.settings.serviceToken);
          if (timer === null) {
            this.options.logger.info({ node: this.nodeId, heartbeatMs: this.heartbeatMs }, 'control stream connected');
            beat();
          }
          return;
        }
        try {
          this.options.onMessage(msg);
        } catch (err) {
          this.options.logger.error({ err }, 'handling a coordinator message failed');
        }
      });
      stream.on('error', (err) => done(err));
      stream.on('end', () => done(this.stopped ? null : Object.assign(new Error('coordinator closed the control stream'), { code: grpc.status.UNAVAILABLE })));
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/**
 * Load process of the coordinator-heartbeats bench (a child of its side, forked with IPC): holds
 * many simulated worker nodes, each on its own gRPC channel and TCP connection as separate
 * machines would be, speaking proto/cluster.proto the way worker-node/control/control-client.ts
 * does: Register with the join token, then the Connect stream with the node's credential,
 * heartbeats at the interval the coordinator's Settings message sets (±10 % jitter) carrying the
 * node's replica states. A StartReplica is acknowledged as starting then running at once (a
 * running replica costs the node nothing here); a StopReplica is reported stopped and dropped.
 *
 * Unlike a real worker it does not reconnect: a stream that breaks is counted and left down, so
 * the bench sees the node lost instead of the break being hidden.
 *
 * argv[2]: LoadRequest as JSON. IPC: the parent sends `stats` and `stop`; this process answers
 * `connected` once every node's stream is up, `stats`, `stopped`, or `error`.
 */
import * as grpc from '@grpc/grpc-js';
import type { CoordinatorMessage__Output } from '../proto/generated/gridline/cluster/v1/CoordinatorMessage.js';
import type { NodeMessage } from '../proto/generated/gridline/cluster/v1/NodeMessage.js';
import type { RegisterResponse__Output } from '../proto/generated/gridline/cluster/v1/RegisterResponse.js';
import type { ReplicaState } from '../proto/generated/gridline/cluster/v1/ReplicaState.js';
import { loadClusterProto } from '../proto/load-cluster-proto.js';

export interface LoadRequest {
  /** host:port of the coordinator's gRPC endpoint. */
  readonly coordinator: string;
  readonly joinToken: string;
  readonly nodeIds: readonly string[];
  /** Resources each simulated node announces. */
  readonly cpu: number;
  readonly memoryBytes: number;
  /** Registrations in flight at once. */
  readonly concurrency: number;
}

export interface LoadStats {
  readonly nodes: number;
  /** Nodes whose stream is up now. */
  readonly connected: number;
  readonly heartbeatsSent: number;
  readonly replicaReports: number;
  readonly replicasHeld: number;
  readonly startsReceived: number;
  readonly stopsReceived: number;
  readonly streamErrors: number;
  readonly lastError: string | null;
}

export type LoadToParent =
  | { readonly type: 'connected'; readonly ms: number }
  | { readonly type: 'stats'; readonly stats: LoadStats }
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string };

export type ParentToLoad = { readonly type: 'stats' } | { readonly type: 'stop' };

type ClusterClient = InstanceType<ReturnType<typeof loadClusterProto>['gridline']['cluster']['v1']['Cluster']>;

const counters = { heartbeatsSent: 0, replicaReports: 0, startsReceived: 0, stopsReceived: 0, streamErrors: 0 };
let lastError: string | null = null;
let stopping = false;

class SimulatedNode {
  private readonly client: ClusterClient;
  private credential = '';
  private heartbeatMs = 1000;
  private stream: grpc.ClientDuplexStream<NodeMessage, CoordinatorMessage__Output> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  readonly replicas = new Map<string, ReplicaState>();
  up = false;

  constructor(private readonly request: LoadRequest, readonly nodeId: string) {
    const Cluster = loadClusterProto().gridline.cluster.v1.Cluster;
    // A channel of its own (no shared subchannel): one TCP connection per node, as on a real fleet.
    this.client = new Cluster(request.coordinator, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.use_local_subchannel_pool': 1,
    });
  }

  register(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.Register({
        joinToken: this.request.joinToken,
        nodeId: this.nodeId,
        hostname: `sim-${this.nodeId}`,
        agentVersion: 'bench-heartbeat-load',
        labels: { pool: 'simulated' },
        resources: { cpu: this.request.cpu, memoryBytes: String(this.request.memoryBytes), gpus: [] },
        replicas: [],
        inferenceAddress: '',
        servedModels: [],
      }, { deadline: Date.now() + 60_000 }, (err: grpc.ServiceError | null, res?: RegisterResponse__Output) => {
        if (err || !res) {
          reject(new Error(`register ${this.nodeId}: ${err?.details ?? 'empty response'}`));
          return;
        }
        this.credential = res.nodeCredential;
        this.heartbeatMs = res.heartbeatIntervalMs || this.heartbeatMs;
        resolve();
      });
    });
  }

  /** Opens the Connect stream; resolves on the coordinator's Settings message (the first heartbeat goes out then). */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${this.credential}`);
      metadata.set('x-gridline-node-id', this.nodeId);
      const stream = this.client.Connect(metadata);
      this.stream = stream;
      let settled = false;
      stream.on('data', (msg: CoordinatorMessage__Output) => {
        if (msg.settings) {
          this.heartbeatMs = msg.settings.heartbeatIntervalMs || this.heartbeatMs;
          if (this.timer === null) this.beat();
          this.up = true;
          if (!settled) {
            settled = true;
            resolve();
          }
        } else if (msg.start) {
          counters.startsReceived += 1;
          const s = msg.start;
          const state: ReplicaState = { replicaId: s.replicaId, runId: s.runId, stage: s.stage, phase: 'REPLICA_PHASE_STARTING', message: '', processed: '0' };
          this.replicas.set(s.replicaId, state);
          this.report(state);
          const running: ReplicaState = { ...state, phase: 'REPLICA_PHASE_RUNNING' };
          this.replicas.set(s.replicaId, running);
          this.report(running);
        } else if (msg.stop) {
          counters.stopsReceived += 1;
          const state = this.replicas.get(msg.stop.replicaId);
          if (state !== undefined) {
            this.replicas.delete(msg.stop.replicaId);
            this.report({ ...state, phase: 'REPLICA_PHASE_STOPPED' });
          }
        }
      });
      const down = (why: string): void => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        const wasUp = this.up;
        this.up = false;
        this.stream = null;
        if (!stopping) {
          counters.streamErrors += 1;
          lastError = `${this.nodeId}: ${why}`;
        }
        if (!settled) {
          settled = true;
          reject(new Error(`connect ${this.nodeId}: ${why}`));
        } else if (wasUp && !stopping) {
          process.stderr.write(`[heartbeat-load] control stream of ${this.nodeId} broke: ${why}\n`);
        }
      };
      stream.on('error', (err: grpc.ServiceError) => down(err.details || err.message));
      stream.on('end', () => down('the coordinator closed the stream'));
    });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stream?.end();
    this.stream = null;
    this.client.close();
  }

  private report(state: ReplicaState): void {
    counters.replicaReports += 1;
    this.stream?.write({ replica: state });
  }

  private beat = (): void => {
    const stream = this.stream;
    if (stream === null) return;
    stream.write({ heartbeat: { seq: String(++this.seq), replicas: [...this.replicas.values()], load1: 0, rssBytes: '268435456' } });
    counters.heartbeatsSent += 1;
    this.timer = setTimeout(this.beat, this.heartbeatMs * (0.9 + Math.random() * 0.2));
  };
}

function send(message: LoadToParent): void {
  if (process.send && process.connected) process.send(message);
}

const request = JSON.parse(process.argv[2] ?? '{}') as LoadRequest;
const nodes = request.nodeIds.map((id) => new SimulatedNode(request, id));

function stats(): LoadStats {
  let connected = 0;
  let replicasHeld = 0;
  for (const n of nodes) {
    if (n.up) connected += 1;
    replicasHeld += n.replicas.size;
  }
  return { nodes: nodes.length, connected, replicasHeld, lastError, ...counters };
}

async function stop(): Promise<void> {
  stopping = true;
  for (const n of nodes) n.close();
  send({ type: 'stopped' });
  // Give the IPC message a moment to leave, then go (channels may hold handles open).
  setTimeout(() => process.exit(0), 200).unref();
}

process.on('message', (raw) => {
  const msg = raw as ParentToLoad;
  if (msg.type === 'stats') send({ type: 'stats', stats: stats() });
  else void stop();
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());

try {
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < nodes.length) {
      const node = nodes[next++]!;
      await node.register();
      await node.connect();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, request.concurrency) }, worker));
  send({ type: 'connected', ms: performance.now() - started });
} catch (err) {
  send({ type: 'error', message: (err as Error).message });
  await stop();
}

import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { bearerToken, hashToken, tokenMatches } from '../../common/auth/secret-token.js';
import { grpcStatusOf } from '../../common/error-codes.js';
import { GridlineError, isGridlineError } from '../../common/errors.js';
import type { NodeRecord } from '../../common/run-types.js';
import type { Logger } from '../../common/logger.js';
import type { ReplicaPhase } from '../../common/run-types.js';
import type { ClusterHandlers } from '../../proto/generated/gridline/cluster/v1/Cluster.js';
import type { CoordinatorMessage } from '../../proto/generated/gridline/cluster/v1/CoordinatorMessage.js';
import type { NodeMessage__Output } from '../../proto/generated/gridline/cluster/v1/NodeMessage.js';
import type { ReplicaState__Output } from '../../proto/generated/gridline/cluster/v1/ReplicaState.js';
import type { AccessControl } from '../auth/access-control.js';
import type { NodeRegistry } from '../registry/node-registry.js';
import type { NodeChannel, ReportedReplica, RunManager } from '../runs/run-manager.js';
import type { CoordinatorStore } from '../store/coordinator-store.js';

export interface ClusterServiceSettings {
  readonly access: AccessControl;
  readonly heartbeatIntervalMs: number;
  readonly ttlMs: number;
  /** Redis URL handed to nodes (they may override it). */
  readonly redisUrl: string;
  readonly keyPrefix: string;
}

const PHASES: Record<string, ReplicaPhase> = {
  REPLICA_PHASE_STARTING: 'starting',
  REPLICA_PHASE_RUNNING: 'running',
  REPLICA_PHASE_DRAINING: 'draining',
  REPLICA_PHASE_STOPPED: 'stopped',
  REPLICA_PHASE_FAILED: 'failed',
};

function toReported(r: ReplicaState__Output): ReportedReplica {
  return { replicaId: r.replicaId, phase: PHASES[r.phase] ?? 'pending', message: r.message };
}

/** A GridlineError as the gRPC error a handler answers with. */
function grpcError(err: unknown): Partial<grpc.StatusObject> {
  if (isGridlineError(err)) return { code: grpcStatusOf(err.code), details: err.message };
  return { code: grpc.status.INTERNAL, details: (err as Error).message };
}

/**
 * The coordinator side of proto/cluster.proto. Register checks the join token and issues a
 * per-node credential; Connect checks it and binds the stream to that node, so everything that
 * comes up the stream is taken as that node's word only (a report about another node's replica
 * is ignored). Also the NodeChannel the run manager sends through.
 */
export class ClusterService implements NodeChannel {
  private readonly sessions = new Map<string, grpc.ServerDuplexStream<NodeMessage__Output, CoordinatorMessage>>();
  private credentialHashes = new Map<string, string>();

  constructor(
    private readonly settings: ClusterServiceSettings,
    private readonly registry: NodeRegistry,
    private readonly store: CoordinatorStore,
    private readonly logger: Logger,
    private runs: RunManager | null = null,
  ) {}

  /** Loads node credentials; those whose seal does not match are left out and named. */
  async load(): Promise<{ readonly ignored: readonly string[] }> {
    const seal = this.settings.access.recordSeal;
    const ignored: string[] = [];
    this.credentialHashes = new Map();
    for (const [nodeId, stored] of await this.store.loadCredentialHashes()) {
      const [hash = '', mac] = stored.split('.');
      if (seal.verify('node-credential', nodeId, hash, mac)) this.credentialHashes.set(nodeId, hash);
      else ignored.push(`node-credential ${nodeId}`);
    }
    return { ignored };
  }

  /** Stores a node's credential hash sealed, so nobody with Redis access can plant one. */
  private async saveCredential(nodeId: string, hash: string): Promise<void> {
    const mac = this.settings.access.recordSeal.mac('node-credential', nodeId, hash);
    await this.store.saveCredentialHash(nodeId, mac === '' ? hash : `${hash}.${mac}`);
  }

  attach(runs: RunManager): void {
    this.runs = runs;
  }

  send(nodeId: string, message: CoordinatorMessage): boolean {
    const session = this.sessions.get(nodeId);
    if (!session || session.destroyed || session.writableEnded) return false;
    return session.write(message) || true;
  }

  connectedNodes(): string[] {
    return [...this.sessions.keys()];
  }

  /** Ends every control stream (coordinator shutdown). */
  closeAll(): void {
    for (const s of this.sessions.values()) s.end();
    this.sessions.clear();
  }

  handlers(): ClusterHandlers {
    return {
      Register: (call, callback) => {
        void this.register(call.request, call.metadata).then(
          (res) => callback(null, res),
          (err: unknown) => callback(grpcError(err)),
        );
      },
      Connect: (call) => this.connect(call),
    };
  }

  private async register(req: Parameters<ClusterHandlers['Register']>[0]['request'], metadata: grpc.Metadata) {
    const nodeId = req.nodeId !== '' ? req.nodeId : `node-${randomBytes(4).toString('hex')}`;
    // A node the coordinator forgot (marked lost) may come back on its own credential, so an
    // expired join token does not strand it; anyone else needs a join token.
    const owner = this.ownsId(nodeId, bearerToken(String(metadata.get('authorization')[0] ?? '')));
    if (!owner) this.settings.access.checkJoinToken(req.joinToken);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(nodeId)) {
      throw new GridlineError('INVALID_ARGUMENT', `node id "${nodeId.slice(0, 80)}" must be 1-63 letters, digits, '.', '_' or '-'`);
    }
    if (this.settings.access.isNodeRevoked(nodeId)) {
      throw new GridlineError('PERMISSION_DENIED', `node id ${nodeId} was revoked by an operator: it may not join again (use another --node-id after checking the machine)`);
    }
    if (this.sessions.has(nodeId)) {
      throw new GridlineError('CONFLICT', `node id ${nodeId} is connected already: give each worker its own --node-id`);
    }
    // Nor may a join token take over the id of a node that is only away: it would get that
    // node's replicas and its routes. Once the node is marked lost (its lease ran out), the id is free.
    const known = this.registry.get(nodeId);
    if (!owner && known !== undefined && known.state !== 'lost') {
      throw new GridlineError('CONFLICT', `node id ${nodeId} belongs to a registered node (${known.state}): it is free once that node is marked lost, within ${Math.ceil(this.settings.ttlMs / 1000)} s of its last heartbeat`, { retryable: true });
    }
    const resources = req.resources;
    await this.registry.register({
      id: nodeId,
      hostname: req.hostname,
      cpu: resources?.cpu ?? 0,
      memory: Number(resources?.memoryBytes ?? 0),
      gpus: (resources?.gpus ?? []).map((g) => ({ index: g.index, uuid: g.uuid, model: g.model, memory: Number(g.memoryBytes), simulated: g.simulated })),
      labels: { ...req.labels },
      agentVersion: req.agentVersion,
      inferenceAddress: req.inferenceAddress === '' ? null : req.inferenceAddress,
      servedModels: req.servedModels.map((m) => ({ name: m.name, version: m.version })),
    });
    const credential = randomBytes(32).toString('base64url');
    this.credentialHashes.set(nodeId, hashToken(credential));
    await this.saveCredential(nodeId, hashToken(credential));
    this.logger.info({ node: nodeId, host: req.hostname, gpus: resources?.gpus.length ?? 0 }, 'node registered');
    return {
      nodeId,
      nodeCredential: credential,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      ttlMs: this.settings.ttlMs,
      redisUrl: this.settings.redisUrl,
      keyPrefix: this.settings.keyPrefix,
      serviceToken: this.settings.access.serviceToken(),
    };
  }

  private currentSettings(): { heartbeatIntervalMs: number; ttlMs: number; serviceToken: string } {
    return { heartbeatIntervalMs: this.settings.heartbeatIntervalMs, ttlMs: this.settings.ttlMs, serviceToken: this.settings.access.serviceToken() };
  }

  private ownsId(nodeId: string, credential: string | null): boolean {
    const expected = this.credentialHashes.get(nodeId);
    return credential !== null && expected !== undefined && expected !== '' && tokenMatches(credential, expected);
  }

  /**
   * Revokes a node: its credential is void and its id refused from now on, its stream ends with
   * PERMISSION_DENIED, and it is marked lost so its replicas move at once.
   */
  async revokeNode(nodeId: string): Promise<NodeRecord> {
    if (this.registry.get(nodeId) === undefined) throw new GridlineError('NOT_FOUND', `no node with id ${nodeId}: see \`gridline nodes\``);
    await this.settings.access.revokeNode(nodeId);
    this.credentialHashes.delete(nodeId);
    await this.saveCredential(nodeId, '');
    const session = this.sessions.get(nodeId);
    this.sessions.delete(nodeId);
    session?.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `node ${nodeId} was revoked by an operator` });
    // The node knew the service token, which access.revokeNode replaced: hand the new one round.
    for (const s of this.sessions.values()) s.write({ settings: this.currentSettings() });
    const node = await this.registry.markLost(nodeId, 'revoked by an operator');
    this.logger.warn({ node: nodeId }, 'node revoked');
    return node;
  }

  private connect(call: grpc.ServerDuplexStream<NodeMessage__Output, CoordinatorMessage>): void {
    const nodeId = String(call.metadata.get('x-gridline-node-id')[0] ?? '');
    const credential = bearerToken(String(call.metadata.get('authorization')[0] ?? ''));
    const known = this.registry.get(nodeId);
    if (known?.state === 'lost') {
      // Its replicas went elsewhere: it must register afresh rather than resume.
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: `node ${nodeId} was marked lost: register again` });
      return;
    }
    if (this.settings.access.isNodeRevoked(nodeId)) {
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `node ${nodeId} was revoked by an operator` });
      return;
    }
    if (!this.ownsId(nodeId, credential) || known === undefined) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: `node ${nodeId || '(none)'} is not registered with this credential: register again` });
      return;
    }
    const previous = this.sessions.get(nodeId);
    if (previous) previous.end();
    this.sessions.set(nodeId, call);
    call.write({ settings: this.currentSettings() });
    void this.registry.connected(nodeId).then(() => {
      this.logger.info({ node: nodeId }, 'node connected');
      this.runs?.resendAll(nodeId);
      return this.runs?.reconcileNow();
    }).catch((err: unknown) => this.logger.error({ err, node: nodeId }, 'handling a node connection failed'));

    call.on('data', (msg: NodeMessage__Output) => {
      if (msg.heartbeat) {
        if (!this.registry.heartbeat(nodeId)) {
          // Lost while silent: a fresh registration brings it back cleanly.
          call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: `node ${nodeId} was marked lost: register again` });
          return;
        }
        this.runs?.onHeartbeat(nodeId, msg.heartbeat.replicas.map(toReported));
      } else if (msg.replica) {
        this.runs?.onReplicaState(nodeId, toReported(msg.replica));
      }
    });
    const closed = (): void => {
      if (this.sessions.get(nodeId) !== call) return;
      this.sessions.delete(nodeId);
      this.logger.info({ node: nodeId }, 'node control stream closed');
      void this.registry.disconnected(nodeId).catch(() => undefined);
    };
    call.on('end', () => {
      closed();
      call.end();
    });
    call.on('error', closed);
    call.on('cancelled', closed);
    call.on('close', closed);
  }
}

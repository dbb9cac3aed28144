import type { Redis } from 'ioredis';
import type { KeySpace } from '../../common/keys.js';
import type { DeadLetter, NodeRecord, RunRecord } from '../../common/run-types.js';
import type { Assignment } from '../runs/assignment.js';

/**
 * The coordinator's durable state in Redis: nodes, runs, assignments and node credential hashes
 * (API keys and join tokens live in auth/access-store.ts). Everything the coordinator needs after
 * a restart is here; the in-memory tables are caches of it.
 */
export interface CoordinatorStore {
  loadNodes(): Promise<NodeRecord[]>;
  saveNode(node: NodeRecord): Promise<void>;
  /** Several nodes in one write (the registry's batched heartbeat times). */
  saveNodes(nodes: readonly NodeRecord[]): Promise<void>;
  loadRuns(): Promise<RunRecord[]>;
  saveRun(run: RunRecord): Promise<void>;
  loadAssignments(): Promise<Assignment[]>;
  saveAssignments(assignments: readonly Assignment[]): Promise<void>;
  deleteAssignments(replicaIds: readonly string[]): Promise<void>;
  saveCredentialHash(nodeId: string, hash: string): Promise<void>;
  loadCredentialHashes(): Promise<Map<string, string>>;
  runCounters(runId: string): Promise<Record<string, string>>;
  runErrors(runId: string, limit: number): Promise<string[]>;
  /** Every dead-lettered item of a run, sorted by source key. */
  deadLetters(runId: string): Promise<DeadLetter[]>;
  deadLetterCount(runId: string): Promise<number>;
}

export function redisCoordinatorStore(redis: Redis, keys: KeySpace): CoordinatorStore {
  const credentials = `${keys.prefix}:node-credentials`;
  const loadHash = async <T>(key: string): Promise<T[]> => Object.values(await redis.hgetall(key)).map((v) => JSON.parse(v) as T);
  return {
    loadNodes: () => loadHash<NodeRecord>(keys.nodes),
    async saveNodes(nodes) {
      if (nodes.length === 0) return;
      await redis.hset(keys.nodes, ...nodes.flatMap((n) => [n.id, JSON.stringify(n)]));
    },
    async saveNode(node) {
      await redis.hset(keys.nodes, node.id, JSON.stringify(node));
    },
    loadRuns: () => loadHash<RunRecord>(keys.runs),
    async saveRun(run) {
      await redis.multi().hset(keys.runs, run.id, JSON.stringify(run)).zadd(keys.runIndex, Date.parse(run.createdAt), run.id).exec();
    },
    loadAssignments: () => loadHash<Assignment>(keys.assignments),
    async saveAssignments(assignments) {
      if (assignments.length === 0) return;
      const args: string[] = [];
      for (const a of assignments) args.push(a.replicaId, JSON.stringify(a));
      await redis.hset(keys.assignments, ...args);
    },
    async deleteAssignments(replicaIds) {
      if (replicaIds.length > 0) await redis.hdel(keys.assignments, ...replicaIds);
    },
    async saveCredentialHash(nodeId, hash) {
      await redis.hset(credentials, nodeId, hash);
    },
    async loadCredentialHashes() {
      return new Map(Object.entries(await redis.hgetall(credentials)));
    },
    runCounters: (runId) => redis.hgetall(keys.runCounters(runId)),
    runErrors: (runId, limit) => redis.lrange(keys.runErrors(runId), 0, limit - 1),
    async deadLetters(runId) {
      const letters = Object.values(await redis.hgetall(keys.runDeadLetters(runId))).map((v) => JSON.parse(v) as DeadLetter);
      return letters.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    deadLetterCount: (runId) => redis.hlen(keys.runDeadLetters(runId)),
  };
}

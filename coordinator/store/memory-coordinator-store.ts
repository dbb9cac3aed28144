import type { NodeRecord, RunRecord } from '../../common/run-types.js';
import type { Assignment } from '../runs/assignment.js';
import type { CoordinatorStore } from './coordinator-store.js';

/**
 * The coordinator's durable state in memory: for tests of the registry and the run manager, and
 * shared between two of them to stand for a coordinator restart. Run counters, errors and dead
 * letters are written by workers, so here they are always empty.
 */
export function memoryCoordinatorStore(): CoordinatorStore {
  const nodes = new Map<string, NodeRecord>();
  const runs = new Map<string, RunRecord>();
  const assignments = new Map<string, Assignment>();
  const credentials = new Map<string, string>();
  return {
    loadNodes: async () => [...nodes.values()],
    saveNode: async (node) => {
      nodes.set(node.id, node);
    },
    saveNodes: async (list) => {
      for (const node of list) nodes.set(node.id, node);
    },
    loadRuns: async () => [...runs.values()],
    saveRun: async (run) => {
      runs.set(run.id, run);
    },
    loadAssignments: async () => [...assignments.values()],
    saveAssignments: async (list) => {
      for (const a of list) assignments.set(a.replicaId, a);
    },
    deleteAssignments: async (ids) => {
      for (const id of ids) assignments.delete(id);
    },
    saveCredentialHash: async (nodeId, hash) => {
      credentials.set(nodeId, hash);
    },
    loadCredentialHashes: async () => new Map(credentials),
    runCounters: async () => ({}),
    runErrors: async () => [],
    deadLetters: async () => [],
    deadLetterCount: async () => 0,
  };
}

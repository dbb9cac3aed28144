import type { ReplicaRequest } from './types.js';

interface OrderKey {
  /** 0: whole GPUs (they need GPUs nothing else touches, so they go before sharing fragments them), 1: shared GPU memory, 2: no GPU. */
  readonly tier: number;
  /** Whole GPUs: how many. Shared: GPU memory in total. */
  readonly weight: number;
  readonly gpu: number;
  readonly replicaId: string;
}

function keyOf(request: ReplicaRequest): OrderKey {
  const { gpu, gpuMemory } = request.resources;
  const tier = gpu === 0 ? 2 : gpuMemory === 0 ? 0 : 1;
  return { tier, weight: tier === 0 ? gpu : gpu * gpuMemory, gpu, replicaId: request.replicaId };
}

function compareKeys(a: OrderKey, b: OrderKey): number {
  if (a.tier !== b.tier) return a.tier - b.tier;
  if (a.weight !== b.weight) return b.weight - a.weight;
  if (a.gpu !== b.gpu) return b.gpu - a.gpu;
  return a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0;
}

/**
 * The order `place` handles requests in: GPU-heavy first so big asks are not starved by small
 * ones that got there first, then by replicaId so the plan does not depend on input order.
 */
export function compareRequests(a: ReplicaRequest, b: ReplicaRequest): number {
  return compareKeys(keyOf(a), keyOf(b));
}

/** `requests` sorted by `compareRequests`, each key computed once. */
export function orderRequests(requests: readonly ReplicaRequest[]): ReplicaRequest[] {
  return requests
    .map((request) => ({ request, key: keyOf(request) }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ request }) => request);
}

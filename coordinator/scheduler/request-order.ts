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
 * The order `place` handles requests of one affinity layer in: GPU-heavy first so big asks are
 * not starved by small ones that got there first, then by replicaId so the plan does not depend
 * on input order.
 */
export function compareRequests(a: ReplicaRequest, b: ReplicaRequest): number {
  return compareKeys(keyOf(a), keyOf(b));
}

/**
 * Per group of `requests`, its affinity layer: 0 for a group whose affinity names no group
 * being placed in this call, else one more than the highest layer it names, so a group is placed
 * after the groups it must sit next to. A cycle (which the pipeline check rejects) is cut where
 * the walk, in group order, meets it. Null when no request has affinity.
 */
export function affinityLayers(requests: readonly ReplicaRequest[]): Map<string, number> | null {
  const targets = new Map<string, Set<string>>();
  for (const request of requests) {
    const affinity = request.affinity;
    if (affinity === undefined || affinity.length === 0) continue;
    let set = targets.get(request.group);
    if (set === undefined) {
      set = new Set();
      targets.set(request.group, set);
    }
    for (const group of affinity) set.add(group);
  }
  if (targets.size === 0) return null;

  const placing = new Set(requests.map((request) => request.group));
  const layers = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (group: string): number => {
    const known = layers.get(group);
    if (known !== undefined) return known;
    if (visiting.has(group)) return -1;
    visiting.add(group);
    let layer = 0;
    for (const target of [...(targets.get(group) ?? [])].sort()) {
      if (target !== group && placing.has(target)) layer = Math.max(layer, visit(target) + 1);
    }
    visiting.delete(group);
    layers.set(group, layer);
    return layer;
  };
  for (const group of [...targets.keys()].sort()) visit(group);
  return layers;
}

/**
 * `requests` in the order `place` handles them: by affinity layer (a stage's affinity targets
 * before it, even when that puts a CPU stage before a GPU one), then by `compareRequests`, each
 * key computed once.
 */
export function orderRequests(requests: readonly ReplicaRequest[]): ReplicaRequest[] {
  const layers = affinityLayers(requests);
  return requests
    .map((request) => ({ request, layer: layers?.get(request.group) ?? 0, key: keyOf(request) }))
    .sort((a, b) => a.layer - b.layer || compareKeys(a.key, b.key))
    .map(({ request }) => request);
}

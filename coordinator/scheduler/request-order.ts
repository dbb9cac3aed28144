import type { ReplicaRequest } from './types.js';

/**
 * 0: whole GPUs (they need GPUs nothing else touches, so they go before sharing fragments them),
 * 1: shared GPU memory, 2: no GPU.
 */
function tier(request: ReplicaRequest): number {
  const { gpu, gpuMemory } = request.resources;
  if (gpu === 0) return 2;
  return gpuMemory === 0 ? 0 : 1;
}

/**
 * The order `place` handles requests in: GPU-heavy first so big asks are not starved by small
 * ones that got there first, then by replicaId so the plan does not depend on input order.
 */
export function compareRequests(a: ReplicaRequest, b: ReplicaRequest): number {
  const tierA = tier(a);
  const tierB = tier(b);
  if (tierA !== tierB) return tierA - tierB;
  const ra = a.resources;
  const rb = b.resources;
  // Whole GPUs: more GPUs first. Shared: more GPU memory in total first.
  const weightA = tierA === 0 ? ra.gpu : ra.gpu * ra.gpuMemory;
  const weightB = tierB === 0 ? rb.gpu : rb.gpu * rb.gpuMemory;
  if (weightA !== weightB) return weightB - weightA;
  if (ra.gpu !== rb.gpu) return rb.gpu - ra.gpu;
  return a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0;
}

import { GridlineError } from '../../common/errors.js';
import { place } from './place.js';
import type { NodeView, Placement, PlacementResult, ReplicaRequest } from './types.js';

/** A pure placement function with `place`'s contract: deterministic, no I/O, never throws for infeasibility. */
export type PlacementPolicy = (
  nodes: readonly NodeView[],
  existing: readonly Placement[],
  requests: readonly ReplicaRequest[],
) => PlacementResult;

export type PlacementPolicyFactory = () => PlacementPolicy;

/** Spread each group, bin-pack GPU memory, keep GPU nodes for GPU work: `place`. */
export const DEFAULT_PLACEMENT_POLICY = 'binpack-spread';

// Named factories, as grpc-js registers load balancers: the coordinator picks a policy by name
// from its config, and a new policy plugs in without touching the code that calls it.
const factories = new Map<string, PlacementPolicyFactory>([[DEFAULT_PLACEMENT_POLICY, () => place]]);

export function registerPlacementPolicy(name: string, factory: PlacementPolicyFactory): void {
  if (factories.has(name)) throw new GridlineError('CONFLICT', `placement policy "${name}" is already registered`);
  factories.set(name, factory);
}

export function createPlacementPolicy(name: string = DEFAULT_PLACEMENT_POLICY): PlacementPolicy {
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new GridlineError('INVALID_ARGUMENT', `unknown placement policy "${name}"; known: ${placementPolicyNames().join(', ')}`);
  }
  return factory();
}

export function placementPolicyNames(): string[] {
  return [...factories.keys()].sort();
}

import { GridlineError } from '../../common/errors.js';
import { CandidateIndex } from './candidate-index.js';
import { ClusterState, requestMillicores } from './cluster-state.js';
import { explainUnplaced } from './explain-unplaced.js';
import { GpuFit } from './gpu-fit.js';
import { GroupFilters, type GroupFilter } from './group-filter.js';
import { CpuChoice, GpuChoice } from './node-choice.js';
import { orderRequests } from './request-order.js';
import type { GpuClaim, NodeView, Placement, PlacementResult, ReplicaRequest, Unplaced } from './types.js';

const NO_SLOTS = new Int32Array(0);

function byId(a: NodeView, b: NodeView): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** What decides where a request fits: requests of one shape fit in the same places. */
function shapeOf(index: CandidateIndex, request: ReplicaRequest, cpuMillicores: number, filter: GroupFilter | null): string {
  const { memory, gpu, gpuMemory, gpuModel, gpuPolicy } = request.resources;
  const base = `${index.selectorId(request.nodeSelector)}|${cpuMillicores}|${memory}|${gpu}|${gpuMemory}|${gpuModel ?? ''}|${gpuPolicy}`;
  return filter === null ? base : `${base}|${filter.shape()}`;
}

function assertUnique(ids: Iterable<string>, what: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new GridlineError('INVALID_ARGUMENT', `duplicate ${what} "${id}" given to the scheduler`);
    seen.add(id);
  }
}

/**
 * Places replicas on nodes, Nomad style: filter the ready nodes (labels, CPU, memory, GPU count,
 * GPU memory, GPU model, affinity and anti-affinity to other groups), score the ones left (spread
 * a group across nodes, bin-pack GPU memory, keep GPU nodes for GPU work, least-loaded CPU), bind
 * the best, and go on with the capacity that is left. Pure and deterministic: the same input gives the same plan, in whatever order the
 * nodes and requests come.
 *
 * `existing` placements take capacity on their nodes and count for spreading, affinity and
 * anti-affinity (via `group`), as do the placements made earlier in the same call.
 * A request that fits nowhere goes to `unplaced` with a reason per node, explained against the
 * capacity the plan leaves; infeasibility never throws. Duplicate node ids or replica ids do
 * (INVALID_ARGUMENT): they are caller bugs.
 */
export function place(
  nodes: readonly NodeView[],
  existing: readonly Placement[],
  requests: readonly ReplicaRequest[],
): PlacementResult {
  return run(nodes, existing, requests, false);
}

/**
 * `place` scoring every candidate node for every request instead of skipping blocks of nodes
 * that cannot win: the reference the tests hold `place` to. Same plan, slower.
 */
export function placeByFullScan(
  nodes: readonly NodeView[],
  existing: readonly Placement[],
  requests: readonly ReplicaRequest[],
): PlacementResult {
  return run(nodes, existing, requests, true);
}

function run(
  nodes: readonly NodeView[],
  existing: readonly Placement[],
  requests: readonly ReplicaRequest[],
  fullScan: boolean,
): PlacementResult {
  const allNodes = [...nodes].sort(byId);
  assertUnique(
    allNodes.map((node) => node.id),
    'node id',
  );
  assertUnique(
    requests.map((request) => request.replicaId),
    'replica id',
  );

  const state = new ClusterState(
    allNodes.filter((node) => node.state === 'ready'),
    existing,
  );
  const index = new CandidateIndex(state);
  const filters = new GroupFilters(state.groups);
  // What the chosen GPUs had before a claim, for the index to update its summaries.
  const maxGpus = requests.reduce((max, request) => Math.max(max, request.resources.gpu), 0);
  const oldFree = new Float64Array(maxGpus);
  const oldClaims = new Int32Array(maxGpus);
  const placements: Placement[] = [];
  const failed: { request: ReplicaRequest; shape: string; withGpu: boolean }[] = [];
  // Free capacity only shrinks during a call, so a request shape that fit nowhere once fits
  // nowhere later: copies of it (replicas of one stage) skip the search. (Affinity, which can
  // grow, carries what it depends on in the shape: see GroupFilter.shape.)
  const infeasible = new Set<string>();

  for (const request of orderRequests(requests)) {
    const { resources, nodeSelector, group, replicaId } = request;
    const cpu = requestMillicores(resources.cpu);
    const withGpu = resources.gpu > 0;
    const canRunOnCpu = !withGpu || resources.gpuPolicy === 'preferred';
    // Before `acquire`: a new filter may turn groups dense.
    const filter = filters.of(request);
    // With affinity, only the nodes running the affinity groups can take the replica.
    const within = fullScan ? null : (filter?.narrowest() ?? null);
    if (infeasible.size > 0) {
      const shape = shapeOf(index, request, cpu, filter);
      if (infeasible.has(shape)) {
        failed.push({ request, shape, withGpu: !canRunOnCpu });
        continue;
      }
    }

    const spread = state.groups.acquire(group);
    let placement: Placement | null = null;
    if (withGpu) {
      const fit = new GpuFit(state, resources.gpu, resources.gpuMemory, index.gpuMask(resources.gpuModel));
      const choice = new GpuChoice(state, cpu, resources.memory, spread, fit, filter);
      const candidates = index.gpuCandidates(nodeSelector, resources.gpuModel);
      if (fullScan) candidates.scanAll(choice);
      else if (within !== null) candidates.scanAmong(choice, within);
      else candidates.searchGpu(choice, cpu, resources.memory, resources.gpu, resources.gpuMemory, group);
      const node = choice.node;
      if (node >= 0) {
        fit.fit(node);
        const gpus: GpuClaim[] = [];
        for (let k = 0; k < fit.count; k += 1) {
          const slot = fit.chosen[k]!;
          gpus.push({ index: state.gpuIndex[slot]!, memory: fit.whole ? state.gpuMemory[slot]! : fit.memoryEach });
          oldFree[k] = state.gpuFree[slot]!;
          oldClaims[k] = state.gpuClaims[slot]!;
        }
        gpus.sort((a, b) => a.index - b.index);
        const before = state.claim(node, cpu, resources.memory, fit.chosen, fit.count, fit.whole ? null : fit.memoryEach, group);
        index.claimed(node, fit.chosen, fit.count, oldFree, oldClaims, group, before);
        placement = { replicaId, nodeId: state.nodes[node]!.id, cpu: resources.cpu, memory: resources.memory, gpus, group };
      }
    }
    if (placement === null && canRunOnCpu) {
      const choice = new CpuChoice(state, cpu, resources.memory, spread, filter);
      const candidates = index.cpuCandidates(nodeSelector);
      if (fullScan) candidates.scanAll(choice);
      else if (within !== null) candidates.scanAmong(choice, within);
      else candidates.searchCpu(choice, cpu, resources.memory, group);
      const node = choice.node;
      if (node >= 0) {
        const before = state.claim(node, cpu, resources.memory, NO_SLOTS, 0, null, group);
        index.claimed(node, NO_SLOTS, 0, NO_SLOTS, NO_SLOTS, group, before);
        placement = { replicaId, nodeId: state.nodes[node]!.id, cpu: resources.cpu, memory: resources.memory, gpus: [], group };
      }
    }
    state.groups.release(group);

    if (placement !== null) {
      placements.push(placement);
    } else {
      const shape = shapeOf(index, request, cpu, filter);
      infeasible.add(shape);
      failed.push({ request, shape, withGpu: !canRunOnCpu });
    }
  }

  // Explained once per shape, against the final state: what is left once the plan is applied.
  const explained = new Map<string, Unplaced>();
  const unplaced = failed.map(({ request, shape, withGpu }) => {
    let explanation = explained.get(shape);
    if (explanation === undefined) {
      explanation = explainUnplaced(allNodes, state, index, request, withGpu);
      explained.set(shape, explanation);
    }
    return explanation.replicaId === request.replicaId ? explanation : { ...explanation, replicaId: request.replicaId };
  });
  return { placements, unplaced };
}

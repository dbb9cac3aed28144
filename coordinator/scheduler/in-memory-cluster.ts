/**
 * Test harness for the scheduler (used by its tests and by bench/placement-bench.ts): builds
 * NodeViews and requests tersely, and checks a plan's invariants with code written
 * independently of `place`, so the two cannot share a bug. Checks throw a GridlineError
 * (INTERNAL) listing every violation.
 */
import { GridlineError } from '../../common/errors.js';
import type { ResourceRequest } from '../../common/pipeline/types.js';
import { parseQuantity } from '../../common/quantity.js';
import { capacityMillicores, requestMillicores } from './cluster-state.js';
import type { GpuView, NodeState, NodeView, Placement, PlacementResult, ReplicaRequest } from './types.js';

export interface GpuSpec {
  readonly model: string;
  /** Bytes or a quantity such as `40Gi`. */
  readonly memory: number | string;
}

export interface NodeSpec {
  readonly cpu: number;
  /** Bytes or a quantity such as `32Gi`. */
  readonly memory: number | string;
  /** A model name ending in its memory (`A100-80GB` is 80 GiB), or a model and memory. */
  readonly gpus?: readonly (string | GpuSpec)[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly state?: NodeState;
}

function gpuView(spec: string | GpuSpec, index: number): GpuView {
  if (typeof spec !== 'string') return { index, model: spec.model, memory: parseQuantity(spec.memory) };
  const match = /(\d+(?:\.\d+)?)\s*GB$/i.exec(spec);
  if (match === null) {
    throw new GridlineError('INVALID_ARGUMENT', `GPU "${spec}" does not end in its memory (e.g. A100-80GB); give { model, memory }`);
  }
  return { index, model: spec, memory: Number(match[1]) * 2 ** 30 };
}

/** Builds a list of NodeViews: `cluster().node('a', { cpu: 8, memory: '32Gi', gpus: ['A100-80GB'] }).build()`. */
export class InMemoryCluster {
  private readonly views: NodeView[] = [];

  node(id: string, spec: NodeSpec): this {
    this.views.push({
      id,
      state: spec.state ?? 'ready',
      cpu: spec.cpu,
      memory: parseQuantity(spec.memory),
      gpus: (spec.gpus ?? []).map(gpuView),
      labels: { ...spec.labels },
    });
    return this;
  }

  /** `count` nodes named `${prefix}-0`, `${prefix}-1`, ... with the same spec. */
  nodes(prefix: string, count: number, spec: NodeSpec): this {
    for (let i = 0; i < count; i += 1) this.node(`${prefix}-${i}`, spec);
    return this;
  }

  build(): NodeView[] {
    return [...this.views];
  }
}

export function cluster(): InMemoryCluster {
  return new InMemoryCluster();
}

export interface ReplicaSpec {
  readonly group?: string;
  readonly cpu?: number;
  readonly memory?: number | string;
  readonly gpu?: number;
  readonly gpuMemory?: number | string;
  readonly gpuModel?: string | null;
  readonly gpuPolicy?: ResourceRequest['gpuPolicy'];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly affinity?: readonly string[];
  readonly antiAffinity?: readonly string[];
}

/** A request with defaults: 1 core, no memory, no GPU, group `g`, no affinity. */
export function replica(replicaId: string, spec: ReplicaSpec = {}): ReplicaRequest {
  return {
    replicaId,
    group: spec.group ?? 'g',
    resources: {
      cpu: spec.cpu ?? 1,
      memory: parseQuantity(spec.memory ?? 0),
      gpu: spec.gpu ?? 0,
      gpuMemory: parseQuantity(spec.gpuMemory ?? 0),
      gpuModel: spec.gpuModel ?? null,
      gpuPolicy: spec.gpuPolicy ?? 'required',
    },
    nodeSelector: spec.nodeSelector ?? {},
    ...(spec.affinity === undefined ? {} : { affinity: spec.affinity }),
    ...(spec.antiAffinity === undefined ? {} : { antiAffinity: spec.antiAffinity }),
  };
}

interface GpuUse {
  memory: number;
  claims: number;
  /** A claim took the whole GPU. */
  whole: boolean;
}

interface NodeUse {
  cpu: number;
  memory: number;
  gpus: Map<number, GpuUse>;
  /** Replicas per group (placements that name one). */
  groups: Map<string, number>;
}

function usage(nodes: readonly NodeView[], placements: readonly Placement[], problems: string[]): Map<string, NodeUse> {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const used = new Map<string, NodeUse>();
  for (const placement of placements) {
    const node = byId.get(placement.nodeId);
    if (node === undefined) {
      problems.push(`${placement.replicaId} is on unknown node ${placement.nodeId}`);
      continue;
    }
    let use = used.get(node.id);
    if (use === undefined) {
      use = { cpu: 0, memory: 0, gpus: new Map(), groups: new Map() };
      used.set(node.id, use);
    }
    if (placement.group !== undefined) use.groups.set(placement.group, (use.groups.get(placement.group) ?? 0) + 1);
    use.cpu += requestMillicores(placement.cpu);
    use.memory += placement.memory;
    const seen = new Set<number>();
    for (const claim of placement.gpus) {
      const gpu = node.gpus.find((g) => g.index === claim.index);
      if (gpu === undefined) {
        problems.push(`${placement.replicaId} claims missing GPU ${claim.index} on ${node.id}`);
        continue;
      }
      if (seen.has(claim.index)) problems.push(`${placement.replicaId} claims GPU ${claim.index} on ${node.id} twice`);
      seen.add(claim.index);
      const gpuUse = use.gpus.get(claim.index) ?? { memory: 0, claims: 0, whole: false };
      gpuUse.memory += claim.memory;
      gpuUse.claims += 1;
      gpuUse.whole ||= claim.memory === gpu.memory;
      use.gpus.set(claim.index, gpuUse);
    }
  }
  return used;
}

function fail(what: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 10).join('; ');
  const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
  throw new GridlineError('INTERNAL', `${what}: ${shown}${more}`, { details: problems });
}

/**
 * No node holds more CPU (in millicores), memory or GPU memory than it has, no whole GPU is
 * shared, new placements are on ready nodes, and no replica is placed twice.
 */
export function assertNoOvercommit(nodes: readonly NodeView[], existing: readonly Placement[], result: PlacementResult): void {
  const problems: string[] = [];
  const byId = new Map(nodes.map((node) => [node.id, node]));
  for (const placement of result.placements) {
    const node = byId.get(placement.nodeId);
    if (node !== undefined && node.state !== 'ready') problems.push(`${placement.replicaId} placed on ${node.state} node ${node.id}`);
  }
  const replicas = new Set<string>();
  for (const { replicaId } of [...existing, ...result.placements, ...result.unplaced]) {
    if (replicas.has(replicaId)) problems.push(`${replicaId} appears twice`);
    replicas.add(replicaId);
  }
  const used = usage(nodes, [...existing, ...result.placements], problems);
  for (const [nodeId, use] of used) {
    const node = byId.get(nodeId)!;
    if (use.cpu > capacityMillicores(node.cpu)) problems.push(`${nodeId} cpu ${use.cpu / 1000} > ${node.cpu}`);
    if (use.memory > node.memory) problems.push(`${nodeId} memory ${use.memory} > ${node.memory}`);
    for (const [index, gpuUse] of use.gpus) {
      const gpu = node.gpus.find((g) => g.index === index)!;
      if (gpuUse.memory > gpu.memory) problems.push(`${nodeId} GPU ${index} memory ${gpuUse.memory} > ${gpu.memory}`);
      if (gpuUse.whole && gpuUse.claims > 1) problems.push(`${nodeId} GPU ${index} is claimed whole and ${gpuUse.claims - 1} more time(s)`);
    }
  }
  fail('plan overcommits', problems);
}

function labelsMatch(node: NodeView, request: ReplicaRequest): boolean {
  return Object.entries(request.nodeSelector).every(([key, value]) => Object.hasOwn(node.labels, key) && node.labels[key] === value);
}

function modelMatches(gpu: GpuView, request: ReplicaRequest): boolean {
  const filter = request.resources.gpuModel;
  return filter === null || gpu.model.toLowerCase().includes(filter.toLowerCase());
}

/** Whether `groups` (replicas per group on one node) pass the request's affinity and anti-affinity. */
function constraintsMet(groups: ReadonlyMap<string, number> | undefined, request: ReplicaRequest): boolean {
  const runs = (group: string): boolean => (groups?.get(group) ?? 0) > 0;
  return (request.affinity ?? []).every(runs) && !(request.antiAffinity ?? []).some(runs);
}

/** Whether `request` could still go on `node` given what `use` already takes there. */
function fitsOn(node: NodeView, use: NodeUse | undefined, request: ReplicaRequest): boolean {
  const { resources } = request;
  if (node.state !== 'ready' || !labelsMatch(node, request)) return false;
  if (!constraintsMet(use?.groups, request)) return false;
  if (requestMillicores(resources.cpu) > capacityMillicores(node.cpu) - (use?.cpu ?? 0)) return false;
  if (resources.memory > node.memory - (use?.memory ?? 0)) return false;
  if (resources.gpu === 0 || resources.gpuPolicy === 'preferred') return true;
  const usable = node.gpus.filter((gpu) => {
    if (!modelMatches(gpu, request)) return false;
    const gpuUse = use?.gpus.get(gpu.index);
    if (resources.gpuMemory === 0) return gpuUse === undefined || gpuUse.claims === 0;
    return gpu.memory - (gpuUse?.memory ?? 0) >= resources.gpuMemory;
  });
  return usable.length >= resources.gpu;
}

/** Each unplaced request fits on no node given the capacity the final plan leaves free. */
export function assertUnplacedFitNowhere(
  nodes: readonly NodeView[],
  existing: readonly Placement[],
  requests: readonly ReplicaRequest[],
  result: PlacementResult,
): void {
  const problems: string[] = [];
  const used = usage(nodes, [...existing, ...result.placements], problems);
  const byId = new Map(requests.map((request) => [request.replicaId, request]));
  for (const { replicaId } of result.unplaced) {
    const request = byId.get(replicaId);
    if (request === undefined) {
      problems.push(`unplaced ${replicaId} was not requested`);
      continue;
    }
    const fits = nodes.filter((node) => fitsOn(node, used.get(node.id), request)).map((node) => node.id);
    if (fits.length > 0) problems.push(`${replicaId} is unplaced but fits on ${fits.join(', ')}`);
  }
  fail('unplaced requests fit', problems);
}

/**
 * Every request is answered exactly once, and each placement gives what was asked: its CPU and
 * memory, on a ready node with matching labels, with `gpu` GPUs of the right model each charged
 * gpuMemory (or their whole memory), or none for a `preferred` request that fell back to CPU.
 */
export function assertHonoursRequests(nodes: readonly NodeView[], requests: readonly ReplicaRequest[], result: PlacementResult): void {
  const problems: string[] = [];
  const nodeById = new Map(nodes.map((node) => [node.id, node]));
  const answered = new Map<string, number>();
  for (const { replicaId } of [...result.placements, ...result.unplaced]) answered.set(replicaId, (answered.get(replicaId) ?? 0) + 1);
  for (const request of requests) {
    if (answered.get(request.replicaId) !== 1) problems.push(`${request.replicaId} answered ${answered.get(request.replicaId) ?? 0} times`);
  }
  const requestById = new Map(requests.map((request) => [request.replicaId, request]));
  for (const placement of result.placements) {
    const request = requestById.get(placement.replicaId);
    const node = nodeById.get(placement.nodeId);
    if (request === undefined || node === undefined) {
      problems.push(`${placement.replicaId} on ${placement.nodeId}: unknown replica or node`);
      continue;
    }
    const { resources } = request;
    const id = placement.replicaId;
    if (node.state !== 'ready') problems.push(`${id} on ${node.state} node`);
    if (!labelsMatch(node, request)) problems.push(`${id} on ${node.id} whose labels do not match`);
    if (placement.cpu !== resources.cpu || placement.memory !== resources.memory) problems.push(`${id} cpu/memory differ from the request`);
    if (placement.group !== request.group) problems.push(`${id} has group ${String(placement.group)}`);
    const gpuCount = placement.gpus.length;
    const cpuFallback = gpuCount === 0 && resources.gpuPolicy === 'preferred';
    if (gpuCount !== resources.gpu && !cpuFallback) problems.push(`${id} has ${gpuCount} GPUs, asked ${resources.gpu}`);
    for (const claim of placement.gpus) {
      const gpu = node.gpus.find((g) => g.index === claim.index);
      if (gpu === undefined) continue;
      if (!modelMatches(gpu, request)) problems.push(`${id} got GPU model ${gpu.model}`);
      const expected = resources.gpuMemory === 0 ? gpu.memory : resources.gpuMemory;
      if (claim.memory !== expected) problems.push(`${id} claims ${claim.memory} bytes on GPU ${claim.index}, expected ${expected}`);
    }
  }
  fail('plan does not honour the requests', problems);
}

/**
 * Each placement met its request's affinity and anti-affinity when it was made: replaying
 * `existing`, then the placements in the order `place` made them, its node ran a replica of every
 * affinity group and none of any anti-affinity group.
 */
export function assertHonoursAffinity(existing: readonly Placement[], requests: readonly ReplicaRequest[], result: PlacementResult): void {
  const problems: string[] = [];
  const requestById = new Map(requests.map((request) => [request.replicaId, request]));
  const groupsOn = new Map<string, Map<string, number>>();
  const add = (placement: Placement): void => {
    if (placement.group === undefined) return;
    let groups = groupsOn.get(placement.nodeId);
    if (groups === undefined) {
      groups = new Map();
      groupsOn.set(placement.nodeId, groups);
    }
    groups.set(placement.group, (groups.get(placement.group) ?? 0) + 1);
  };
  existing.forEach(add);
  for (const placement of result.placements) {
    const request = requestById.get(placement.replicaId);
    if (request !== undefined && !constraintsMet(groupsOn.get(placement.nodeId), request)) {
      const groups = [...(groupsOn.get(placement.nodeId)?.keys() ?? [])].sort().join(', ');
      problems.push(`${placement.replicaId} on ${placement.nodeId}, which runs [${groups}]`);
    }
    add(placement);
  }
  fail('plan breaks affinity or anti-affinity', problems);
}

import { formatBytes } from '../../common/quantity.js';
import type { CandidateIndex } from './candidate-index.js';
import { requestMillicores, type ClusterState } from './cluster-state.js';
import { GpuFit, NO_FIT } from './gpu-fit.js';
import type { NodeView, ReplicaRequest, Unplaced, UnplacedReason } from './types.js';

/** Nodes named per resource in a summary; the rest are counted. */
const NAMED_IN_SUMMARY = 3;

type Resource = 'cpu' | 'memory' | 'gpu' | 'labels' | 'affinity' | 'anti-affinity' | 'state';
const SUMMARY_ORDER: readonly Resource[] = ['cpu', 'memory', 'gpu', 'labels', 'affinity', 'anti-affinity', 'state'];

interface Shortage {
  readonly nodeId: string;
  /** How close the node came (more is closer): the summary names the closest nodes first. */
  readonly closeness: number;
  /** The node's part of the summary, e.g. `node-a has 1 free`. */
  readonly detail: string;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function formatCores(millicores: number): string {
  return String(millicores / 1000);
}

function coresNeeded(millicores: number): string {
  return `${formatCores(millicores)} ${millicores === 1000 ? 'core' : 'cores'}`;
}

function gpuNeed(request: ReplicaRequest): string {
  const { gpu, gpuMemory, gpuModel } = request.resources;
  const model = gpuModel === null || gpuModel === '' ? '' : ` matching "${gpuModel}"`;
  if (gpuMemory === 0) return `${gpu} entirely free ${gpu === 1 ? 'GPU' : 'GPUs'}${model}`;
  return `${plural(gpu, 'GPU')}${model} with ${formatBytes(gpuMemory)} free${gpu === 1 ? '' : ' each'}`;
}

/**
 * A group as reasons name it: its last `/` segment, which for the coordinator's
 * `${runId}/${stage}` groups is the stage the user wrote (affinity stays within one run).
 */
function groupName(group: string): string {
  return group.slice(group.lastIndexOf('/') + 1);
}

function selectorText(selector: Readonly<Record<string, string>>): string {
  return Object.keys(selector)
    .sort()
    .map((key) => `${key}=${selector[key] ?? ''}`)
    .join(',');
}

/** Why `request`'s GPUs do not fit on ready node `node`; null when they do. */
function gpuShortage(
  state: ClusterState,
  fit: GpuFit,
  mask: Uint8Array | null,
  node: number,
  request: ReplicaRequest,
): { reason: string; shortage: Shortage } | null {
  const { gpu, gpuMemory, gpuModel } = request.resources;
  if (fit.fit(node) !== NO_FIT) return null;

  const nodeId = state.nodes[node]!.id;
  const need = `gpu: needs ${gpuNeed(request)}`;
  const start = state.gpuStart[node]!;
  const end = state.gpuStart[node + 1]!;
  if (end === start) {
    return { reason: `${need}, node has 0 GPUs`, shortage: { nodeId, closeness: -2, detail: `${nodeId} has 0 GPUs` } };
  }
  const matching: number[] = [];
  for (let slot = start; slot < end; slot += 1) if (mask === null || mask[slot] === 1) matching.push(slot);
  if (matching.length === 0) {
    const models = [...new Set(state.gpuModel.slice(start, end))].join(', ');
    return {
      reason: `${need}, no GPU matches "${gpuModel ?? ''}" (node has ${models})`,
      shortage: { nodeId, closeness: -1, detail: `${nodeId} has no GPU matching "${gpuModel ?? ''}"` },
    };
  }

  if (gpuMemory === 0) {
    const idle = matching.filter((slot) => state.gpuClaims[slot] === 0).length;
    const inUse = matching
      .filter((slot) => state.gpuClaims[slot] !== 0)
      .map((slot) => `GPU ${state.gpuIndex[slot]} is in use`)
      .join(', ');
    return {
      reason: `${need}, ${idle} of ${plural(matching.length, 'GPU')} entirely free${inUse === '' ? '' : ` (${inUse})`}`,
      shortage: { nodeId, closeness: idle, detail: `${nodeId} has ${idle} entirely free ${idle === 1 ? 'GPU' : 'GPUs'}` },
    };
  }

  const frees = matching.map((slot) => `GPU ${state.gpuIndex[slot]} has ${formatBytes(state.gpuFree[slot]!)} free`);
  const reason = `${need}, ${frees.join(', ')}`;
  if (gpu === 1) {
    let best = matching[0]!;
    for (const slot of matching) if (state.gpuFree[slot]! > state.gpuFree[best]!) best = slot;
    const free = formatBytes(state.gpuFree[best]!);
    const detail =
      matching.length === 1
        ? `${nodeId} GPU ${state.gpuIndex[best]} has ${free} free`
        : `${nodeId} has at most ${free} free on a GPU`;
    return { reason, shortage: { nodeId, closeness: state.gpuFree[best]!, detail } };
  }
  const enough = matching.filter((slot) => state.gpuFree[slot]! >= gpuMemory).length;
  return { reason, shortage: { nodeId, closeness: enough, detail: `${nodeId} has ${plural(enough, 'such GPU')}` } };
}

function summarize(byResource: ReadonlyMap<Resource, Shortage[]>, request: ReplicaRequest, cpu: number): string {
  const parts: string[] = [];
  for (const resource of SUMMARY_ORDER) {
    const shortages = byResource.get(resource);
    if (shortages === undefined) continue;
    const sorted = [...shortages].sort(
      (a, b) => b.closeness - a.closeness || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0),
    );
    const named = sorted.slice(0, NAMED_IN_SUMMARY).map((s) => s.detail);
    if (sorted.length > NAMED_IN_SUMMARY) named.push(`and ${sorted.length - NAMED_IN_SUMMARY} more`);
    const details = named.join(', ');
    switch (resource) {
      case 'cpu':
        parts.push(`cpu: needs ${coresNeeded(cpu)}, ${details}`);
        break;
      case 'memory':
        parts.push(`memory: needs ${formatBytes(request.resources.memory)}, ${details}`);
        break;
      case 'gpu':
        parts.push(`gpu: needs ${gpuNeed(request)}, ${details}`);
        break;
      case 'labels':
        parts.push(`labels: needs ${selectorText(request.nodeSelector)}, ${details}`);
        break;
      case 'affinity':
        parts.push(`affinity: ${details}`);
        break;
      case 'anti-affinity':
        parts.push(`anti-affinity: ${details}`);
        break;
      case 'state':
        parts.push(`not ready: ${details}`);
        break;
    }
  }
  return parts.join('; ');
}

/**
 * Says why `request` fits on none of `allNodes` (every node given, sorted by id, ready or not)
 * given the free capacity in `state`: one reason per node, and a one-sentence summary naming the
 * short resource and the nodes that came closest. `withGpu` is false for a `preferred` request,
 * which could have run without its GPUs.
 */
export function explainUnplaced(
  allNodes: readonly NodeView[],
  state: ClusterState,
  index: CandidateIndex,
  request: ReplicaRequest,
  withGpu: boolean,
): Unplaced {
  const { replicaId, resources, nodeSelector } = request;
  const cpu = requestMillicores(resources.cpu);
  if (state.size === 0) {
    const notReady = allNodes.map((node) => `${node.id} is ${node.state}`);
    const named = notReady.slice(0, NAMED_IN_SUMMARY);
    if (notReady.length > NAMED_IN_SUMMARY) named.push(`and ${notReady.length - NAMED_IN_SUMMARY} more`);
    return {
      replicaId,
      summary: named.length === 0 ? 'no ready nodes' : `no ready nodes: ${named.join(', ')}`,
      reasons: Object.freeze(allNodes.map((node) => ({ nodeId: node.id, reason: `node is ${node.state}` }))),
    };
  }

  const reasons: UnplacedReason[] = [];
  const byResource = new Map<Resource, Shortage[]>();
  const short = (resource: Resource, shortage: Shortage): void => {
    const list = byResource.get(resource);
    if (list === undefined) byResource.set(resource, [shortage]);
    else list.push(shortage);
  };
  const selectorKeys = Object.keys(nodeSelector).sort();
  const affinity = [...new Set(request.affinity ?? [])].sort();
  const antiAffinity = [...new Set(request.antiAffinity ?? [])].sort();
  const mask = index.gpuMask(resources.gpuModel);
  const fit = withGpu && resources.gpu > 0 ? new GpuFit(state, resources.gpu, resources.gpuMemory, mask) : null;

  for (const view of allNodes) {
    const nodeId = view.id;
    const node = view.state === 'ready' ? state.indexOf(nodeId) : undefined;
    if (node === undefined) {
      reasons.push({ nodeId, reason: `node is ${view.state}` });
      short('state', { nodeId, closeness: 0, detail: `${nodeId} is ${view.state}` });
      continue;
    }
    const mismatch = selectorKeys.find(
      (key) => !Object.hasOwn(view.labels, key) || view.labels[key] !== nodeSelector[key],
    );
    if (mismatch !== undefined) {
      const has = Object.hasOwn(view.labels, mismatch);
      const actual = has ? `${mismatch}=${view.labels[mismatch] ?? ''}` : `no ${mismatch} label`;
      reasons.push({ nodeId, reason: `labels: needs ${mismatch}=${nodeSelector[mismatch] ?? ''}, node has ${actual}` });
      short('labels', { nodeId, closeness: 0, detail: has ? `${nodeId} has ${actual}` : `${nodeId} lacks ${mismatch}` });
      continue;
    }
    // Like labels, a broken constraint is the node's whole story: freeing capacity would not help.
    const missing = affinity.filter((group) => state.groups.count(group, node) === 0).map(groupName);
    const running = antiAffinity.filter((group) => state.groups.count(group, node) > 0).map(groupName);
    if (missing.length > 0 || running.length > 0) {
      const problems = [
        ...missing.map((name) => `affinity: no replica of ${name} here`),
        ...running.map((name) => `anti-affinity: runs a replica of ${name}`),
      ];
      reasons.push({ nodeId, reason: problems.join('; ') });
      if (missing.length > 0) {
        short('affinity', { nodeId, closeness: -missing.length, detail: `${nodeId} has no replica of ${missing.join(', ')}` });
      }
      if (running.length > 0) {
        short('anti-affinity', { nodeId, closeness: -running.length, detail: `${nodeId} runs a replica of ${running.join(', ')}` });
      }
      continue;
    }

    const problems: string[] = [];
    const cpuFree = state.cpuFree[node]!;
    if (cpuFree < cpu) {
      problems.push(`cpu: needs ${coresNeeded(cpu)}, ${formatCores(cpuFree)} free`);
      short('cpu', { nodeId, closeness: cpuFree, detail: `${nodeId} has ${formatCores(cpuFree)} free` });
    }
    const memoryFree = state.memoryFree[node]!;
    if (memoryFree < resources.memory) {
      problems.push(`memory: needs ${formatBytes(resources.memory)}, ${formatBytes(memoryFree)} free`);
      short('memory', { nodeId, closeness: memoryFree, detail: `${nodeId} has ${formatBytes(memoryFree)} free` });
    }
    if (fit !== null) {
      const gpu = gpuShortage(state, fit, mask, node, request);
      if (gpu !== null) {
        problems.push(gpu.reason);
        short('gpu', gpu.shortage);
      }
    }
    // Unreachable while the filters above match the ones `place` applies; kept so a mismatch
    // shows up as a readable reason rather than a missing entry.
    reasons.push({ nodeId, reason: problems.length === 0 ? 'fits now' : problems.join('; ') });
  }

  return { replicaId, summary: summarize(byResource, request, cpu), reasons: Object.freeze(reasons) };
}

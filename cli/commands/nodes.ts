import type { NodeRecord } from '../../common/run-types.js';
import type { CoordinatorClient } from '../coordinator-client.js';
import { gib, table } from './format.js';

/** `gridline nodes revoke NODE`: the node's credential is void, it is disconnected and may not join again. */
export async function revokeNodeCommand(client: CoordinatorClient, nodeId: string): Promise<void> {
  const { node } = await client.request<{ node: NodeRecord }>('POST', `/v1/nodes/${encodeURIComponent(nodeId)}/revoke`);
  process.stdout.write(`node ${node.id} revoked: disconnected, its replicas move to other nodes, and its id may not register again\n`);
}

/** `gridline nodes`: registered nodes with their state, resources and GPUs. */
export async function nodesCommand(client: CoordinatorClient, json: boolean): Promise<void> {
  const { nodes } = await client.request<{ nodes: NodeRecord[] }>('GET', '/v1/nodes');
  if (json) {
    process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
    return;
  }
  if (nodes.length === 0) {
    process.stdout.write('no nodes registered: start one with `gridline worker --coordinator HOST:PORT --join-token TOKEN`\n');
    return;
  }
  const rows = nodes.map((n) => [
    n.id, n.state, n.hostname, String(n.cpu), gib(n.memory),
    n.gpus.length === 0 ? 'none (CPU node)' : n.gpus.map((g) => `${g.index}:${g.model} ${gib(g.memory)}${g.simulated ? ' (sim)' : ''}`).join(', '),
    Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-',
    n.inferenceAddress ? `${n.inferenceAddress} (${(n.servedModels ?? []).map((m) => `${m.name}@${m.version}`).join(', ') || 'no models'})` : '-',
    n.lastHeartbeatAt,
  ]);
  process.stdout.write(`${table(['NODE', 'STATE', 'HOST', 'CPU', 'MEMORY', 'GPUS', 'LABELS', 'INFERENCE (OIP gRPC)', 'LAST HEARTBEAT'], rows)}\n`);
}

import type { NodeRecord } from '../../common/run-types.js';
import type { CoordinatorClient } from '../coordinator-client.js';

/** `gridline drain NODE`: the node takes nothing new; its replicas finish what they hold and move. */
export async function drainCommand(client: CoordinatorClient, nodeId: string): Promise<void> {
  const { node, moved } = await client.request<{ node: NodeRecord; moved: string[] }>('POST', `/v1/nodes/${encodeURIComponent(nodeId)}/drain`);
  const what = moved.length === 0
    ? 'it held no replicas'
    : `its ${moved.length} ${moved.length === 1 ? 'replica moves' : 'replicas move'} to other nodes, each finishing the chunks it holds there: ${moved.join(', ')}`;
  process.stdout.write(`node ${node.id} ${node.state}: it takes no new replicas; ${what}\n`);
  process.stdout.write(`undo with \`gridline undrain ${node.id}\`\n`);
}

/** `gridline undrain NODE`: the node takes replicas again. */
export async function undrainCommand(client: CoordinatorClient, nodeId: string): Promise<void> {
  const { node } = await client.request<{ node: NodeRecord }>('POST', `/v1/nodes/${encodeURIComponent(nodeId)}/undrain`);
  const when = node.state === 'ready' ? 'it takes new replicas again' : 'it takes new replicas once its control stream is back';
  process.stdout.write(`node ${node.id} ${node.state}: ${when}; replicas that moved away stay where they are\n`);
}

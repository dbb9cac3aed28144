import type { ModelRouteView } from '../../common/model-routes.js';
import type { NodeRecord } from '../../common/run-types.js';

/**
 * The routing table as nodes announce it: every model version a node serves, with the node's
 * inference address. Only `ready` nodes take requests; others stay listed (not ready) so a gateway
 * keeps its connection warm through a short blip. Pure, sorted, deterministic.
 */
export function modelRoutes(nodes: readonly NodeRecord[]): ModelRouteView[] {
  const byKey = new Map<string, { model: string; version: string; replicas: { id: string; address: string; ready: boolean }[] }>();
  for (const node of nodes) {
    if (!node.inferenceAddress || node.state === 'lost') continue;
    for (const m of node.servedModels ?? []) {
      const key = `${m.name}\u0000${m.version}`;
      let route = byKey.get(key);
      if (!route) {
        route = { model: m.name, version: m.version, replicas: [] };
        byKey.set(key, route);
      }
      route.replicas.push({ id: node.id, address: node.inferenceAddress, ready: node.state === 'ready' });
    }
  }
  return [...byKey.values()]
    .map((r) => ({ ...r, replicas: r.replicas.sort((a, b) => a.id.localeCompare(b.id)) }))
    .sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
}

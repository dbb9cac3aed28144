import type { ModelRouteView, ReplicaRouteView } from '../../common/model-routes.js';
import type { NodeRecord } from '../../common/run-types.js';

/** A placed replica serving a model online (a ModelDeployment replica or an exposed stage). */
export interface ServingRoute {
  readonly nodeId: string;
  readonly model: string;
  readonly version: string;
  /** The replica reported running: its model loaded and answered a warm-up inference. */
  readonly running: boolean;
}

/**
 * The routing table: every model version a node serves — from its own model repository, or
 * through replicas the coordinator placed there — with the node's inference address. A node
 * serves a model version once however many replicas run it there, so a route lists nodes. Only
 * replicas that are running on nodes holding their lease take requests; the others (starting,
 * draining, on a draining node) stay listed as not ready so a gateway keeps its connection warm.
 * Lost nodes are dropped. Pure, sorted, deterministic.
 */
export function modelRoutes(nodes: readonly NodeRecord[], serving: readonly ServingRoute[] = []): ModelRouteView[] {
  const byKey = new Map<string, { model: string; version: string; replicas: Map<string, ReplicaRouteView> }>();
  const add = (node: NodeRecord, model: string, version: string, running: boolean): void => {
    const key = `${model}\u0000${version}`;
    let route = byKey.get(key);
    if (!route) {
      route = { model, version, replicas: new Map() };
      byKey.set(key, route);
    }
    // A disconnected node still holds its lease (and after a coordinator restart every node is
    // disconnected until it reconnects): keep routing to it; the gateway's retries and ejection
    // cover one that is really gone, and the lease sweep removes it within three heartbeats.
    const ready = running && (node.state === 'ready' || node.state === 'disconnected');
    const seen = route.replicas.get(node.id);
    if (seen === undefined || (!seen.ready && ready)) route.replicas.set(node.id, { id: node.id, address: node.inferenceAddress!, ready });
  };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const node of nodes) {
    if (!node.inferenceAddress || node.state === 'lost') continue;
    for (const m of node.servedModels ?? []) add(node, m.name, m.version, true);
  }
  for (const s of serving) {
    const node = byId.get(s.nodeId);
    if (!node?.inferenceAddress || node.state === 'lost') continue;
    add(node, s.model, s.version, s.running);
  }
  return [...byKey.values()]
    .map((r) => ({ model: r.model, version: r.version, replicas: [...r.replicas.values()].sort((a, b) => a.id.localeCompare(b.id)) }))
    .sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
}

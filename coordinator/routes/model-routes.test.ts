import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../common/run-types.js';
import { modelRoutes } from './model-routes.js';

const node = (id: string, state: NodeRecord['state'], address: string | null, models: { name: string; version: string }[]): NodeRecord => ({
  id, state, hostname: 'h', cpu: 1, memory: 1, gpus: [], labels: {}, registeredAt: '', lastHeartbeatAt: '', agentVersion: 'x',
  inferenceAddress: address, servedModels: models,
});

describe('modelRoutes', () => {
  it('groups replicas by model version, routes to nodes that hold their lease, drops lost nodes and nodes without a server', () => {
    const routes = modelRoutes([
      node('b', 'ready', '127.0.0.1:2', [{ name: 'cls', version: '1' }]),
      node('a', 'disconnected', '127.0.0.1:1', [{ name: 'cls', version: '1' }, { name: 'vad', version: '3' }]),
      node('c', 'lost', '127.0.0.1:3', [{ name: 'cls', version: '1' }]),
      node('d', 'ready', null, []),
    ]);
    expect(routes).toEqual([
      { model: 'cls', version: '1', replicas: [{ id: 'a', address: '127.0.0.1:1', ready: true }, { id: 'b', address: '127.0.0.1:2', ready: true }] },
      { model: 'vad', version: '3', replicas: [{ id: 'a', address: '127.0.0.1:1', ready: true }] },
    ]);
  });

  it('adds placed serving replicas: ready only once running on a ready node, one entry per node', () => {
    const routes = modelRoutes([
      node('a', 'ready', '127.0.0.1:1', []),
      node('b', 'ready', '127.0.0.1:2', []),
      node('c', 'draining', '127.0.0.1:3', []),
      node('d', 'ready', null, []),
    ], [
      { nodeId: 'a', model: 'cls', version: '1', running: true },
      { nodeId: 'a', model: 'cls', version: '1', running: false },
      { nodeId: 'b', model: 'cls', version: '1', running: false },
      { nodeId: 'c', model: 'cls', version: '1', running: true },
      { nodeId: 'd', model: 'cls', version: '1', running: true },
      { nodeId: 'gone', model: 'cls', version: '1', running: true },
    ]);
    expect(routes).toEqual([{
      model: 'cls', version: '1', replicas: [
        { id: 'a', address: '127.0.0.1:1', ready: true },
        { id: 'b', address: '127.0.0.1:2', ready: false },
        { id: 'c', address: '127.0.0.1:3', ready: false },
      ],
    }]);
  });
});

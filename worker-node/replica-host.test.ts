import { describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import type { ReplicaSpec } from '../common/replica-spec.js';
import type { ReplicaState } from '../proto/generated/gridline/cluster/v1/ReplicaState.js';
import type { RuntimeCache } from '../services/model-serving/runtime-cache.js';
import type { ServingHost } from '../services/model-serving/serving-host.js';
import { ReplicaHost } from './replica-host.js';

const spec = {
  replicaId: 'dep.serve.0', runId: 'dep', stage: 'serve', kind: 'model-server', queue: '', nextQueue: null, nextStage: null,
  keyPrefix: 'gl', chunking: { maxItems: 1, maxBytes: 1 }, source: null, sink: null, userStage: null, concurrency: 1,
  retry: { attempts: 1, backoffMs: 1 }, gpuIndexes: [],
  serving: { model: { name: 'm', version: '1', runtime: 'onnx', uri: 'file:m.onnx' }, batching: {}, warmUpShapes: {} },
} as unknown as ReplicaSpec;

describe('ReplicaHost stop', () => {
  it('stops a replica once however often Stop arrives (the coordinator repeats it until the replica is gone)', async () => {
    let releases = 0;
    let finishRelease!: () => void;
    const serving: ServingHost = {
      acquire: () => ({
        ready: Promise.resolve(),
        runtime: () => {
          throw new Error('not used');
        },
        onFailure: () => undefined,
        release: () => {
          releases += 1;
          return new Promise<void>((resolve) => {
            finishRelease = resolve;
          });
        },
      }),
    };
    const states: ReplicaState[] = [];
    const host = new ReplicaHost(() => {
      throw new Error('no Redis for a serving replica');
    }, [], silentLogger, (s) => states.push(s), {} as RuntimeCache, serving);
    host.start(spec);
    await Promise.resolve();

    const first = host.stop(spec.replicaId, true);
    const second = host.stop(spec.replicaId, false);
    await new Promise((r) => setImmediate(r));
    finishRelease();
    await Promise.all([first, second]);
    expect(releases).toBe(1);
    expect(states.at(-1)?.phase).toBe('REPLICA_PHASE_STOPPED');
    expect(host.states()).toEqual([]);
  });
});

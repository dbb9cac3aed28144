import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isGridlineError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import type { ServingSpec } from '../../common/replica-spec.js';
import { tensor, type Tensor } from '../../common/tensor.js';
import { createFakeRuntime } from '../../services/model-serving/batcher/fake-model-runtime.js';
import type { ModelRuntime } from '../../services/model-serving/model-runtime.js';
import { RuntimeCache } from '../../services/model-serving/runtime-cache.js';
import type { StageReplica } from '../../services/stages/stage-replica.js';
import { startServingReplica } from '../serving-replica.js';
import { startModelServer, type ModelServer } from './model-server.js';
import { modelServerHost } from './serving-host.js';

/** A doubling model whose session can be made to "die" (its thread gone), like a crashed ORT thread. */
function doubler(): ModelRuntime & { kill(): void; loads: number } {
  let alive = true;
  const fake = createFakeRuntime({
    inputs: [{ name: 'x', dtype: 'float32', shape: [null, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [null, 2] }],
    compute: (feeds) => {
      if (!alive) throw new Error('the model thread exited');
      const x = feeds.x!.data as Float32Array;
      return { y: tensor('float32', feeds.x!.shape, x.map((v) => v * 2)) };
    },
  });
  return Object.assign(fake, { healthy: () => alive, kill: () => { alive = false; }, loads: 0 });
}

// The uris must resolve to files; the fake runtime never reads them.
const DIR = mkdtempSync(join(tmpdir(), 'gl-acquire-'));
for (const f of ['double.onnx', 'other.onnx']) writeFileSync(join(DIR, f), '');
const DOUBLE = join(DIR, 'double.onnx');

const spec = (uri: string, name = 'double'): ServingSpec => ({
  model: { name, version: '1', runtime: 'onnx', uri },
  batching: { maxBatchSize: 4, maxDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 8, timeoutMs: 5_000, batchDims: {} },
  warmUpShapes: {},
});

const x = (v: number): Record<string, Tensor> => ({ x: tensor('float32', [1, 2], new Float32Array([v, v + 1])) });

describe('model server: models added and released at run time', () => {
  let server: ModelServer | undefined;
  const created: ReturnType<typeof doubler>[] = [];

  async function start(): Promise<ModelServer> {
    const runtimes = new RuntimeCache(async () => {
      const r = doubler();
      created.push(r);
      return r;
    }, 0);
    server = await startModelServer({ host: '127.0.0.1', port: 0, models: [], runtimes, logger: silentLogger });
    return server;
  }

  afterAll(() => rmSync(DIR, { recursive: true, force: true }));

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    created.length = 0;
  });

  it('loads a model once for several holders and unloads it with the last release', async () => {
    const s = await start();
    const host = modelServerHost(s);
    const a = host.acquire(spec(DOUBLE), { useGpu: false });
    const b = host.acquire(spec(DOUBLE), { useGpu: false });
    await Promise.all([a.ready, b.ready]);
    expect(created).toHaveLength(1);
    expect(s.models()).toEqual([{ name: 'double', version: '1', state: 'ready', reason: '' }]);
    const out = await a.runtime().run(x(1));
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 4]);
    await a.release();
    await a.release(); // idempotent: must not take b's hold away
    expect(s.models()).toHaveLength(1);
    await b.release();
    expect(s.models()).toEqual([]);
  });

  it('refuses another uri under a name it serves, with CONFLICT', async () => {
    const s = await start();
    const host = modelServerHost(s);
    const a = host.acquire(spec(DOUBLE), { useGpu: false });
    await a.ready;
    const b = host.acquire(spec(join(DIR, 'other.onnx')), { useGpu: false });
    const err = await b.ready.catch((e: unknown) => e);
    expect(isGridlineError(err) && err.code).toBe('CONFLICT');
    expect((err as Error).message).toMatch(/already served here/);
  });

  it('a session that dies fails its serving replica, and the next acquire loads a fresh one', async () => {
    const s = await start();
    const host = modelServerHost(s);
    const phases: string[] = [];
    const replica = startServingReplica({ replicaId: 'r1', serving: spec(DOUBLE) } as never, {
      serving: host, useGpu: false, logger: silentLogger, onPhase: (r: StageReplica) => phases.push(r.phase),
    });
    await expect.poll(() => replica.phase).toBe('running');
    created[0]!.kill();
    const pipeline = host.acquire(spec(DOUBLE), { useGpu: false });
    await pipeline.ready;
    await expect(pipeline.runtime().run(x(1))).rejects.toThrow(/thread exited/);
    await expect.poll(() => replica.phase).toBe('failed');
    expect(replica.message).toMatch(/MODEL_ERROR: the model session died/);
    expect(s.models()[0]).toMatchObject({ state: 'failed' });
    // What the coordinator does next: the replica is stopped and started again.
    await replica.stop(false);
    await pipeline.release();
    const again = host.acquire(spec(DOUBLE), { useGpu: false });
    await again.ready;
    expect(created).toHaveLength(2);
    expect(Array.from((await again.runtime().run(x(3))).y!.data as Float32Array)).toEqual([6, 8]);
    expect(phases).toEqual(['running', 'failed', 'stopped']);
  });
});

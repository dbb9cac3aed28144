import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import type { ModelRuntime } from './model-runtime.js';
import { RuntimeCache } from './runtime-cache.js';

function fakeFactory() {
  const made: { path: string; closed: boolean }[] = [];
  const factory = async (path: string): Promise<ModelRuntime> => {
    if (path.includes('broken')) throw new Error('cannot load');
    const record = { path, closed: false };
    made.push(record);
    return { inputs: [], outputs: [], run: async () => ({}), close: async () => { record.closed = true; } };
  };
  return { made, factory };
}

describe('RuntimeCache', () => {
  it('shares one session between holders of the same model and device', async () => {
    const { made, factory } = fakeFactory();
    const cache = new RuntimeCache(factory, 1_000);
    const [a, b] = await Promise.all([cache.acquire('/m.onnx', false, silentLogger), cache.acquire('/m.onnx', false, silentLogger)]);
    expect(a.runtime).toBe(b.runtime);
    const gpu = await cache.acquire('/m.onnx', true, silentLogger);
    expect(gpu.runtime).not.toBe(a.runtime);
    expect(made).toHaveLength(2);
    await cache.closeAll();
    expect(made.every((m) => m.closed)).toBe(true);
  });

  it('closes a session only after the last holder released it and the keep-alive passed', async () => {
    const { made, factory } = fakeFactory();
    const cache = new RuntimeCache(factory, 20);
    const a = await cache.acquire('/m.onnx', false, silentLogger);
    const b = await cache.acquire('/m.onnx', false, silentLogger);
    a.release();
    a.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(made[0]!.closed).toBe(false);
    b.release();
    const again = await cache.acquire('/m.onnx', false, silentLogger);
    expect(again.runtime).toBe(b.runtime);
    again.release();
    await new Promise((r) => setTimeout(r, 60));
    expect(made[0]!.closed).toBe(true);
    expect((await cache.acquire('/m.onnx', false, silentLogger)).runtime).not.toBe(b.runtime);
  });

  it('does not cache a failed load', async () => {
    const { factory } = fakeFactory();
    const cache = new RuntimeCache(factory, 20);
    await expect(cache.acquire('/broken.onnx', false, silentLogger)).rejects.toThrow('cannot load');
    await expect(cache.acquire('/broken.onnx', false, silentLogger)).rejects.toThrow('cannot load');
  });
});

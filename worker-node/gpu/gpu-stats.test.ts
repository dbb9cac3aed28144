import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createNvidiaSmiStats, NVIDIA_SMI_STATS_QUERY, parseGpuStats, registerGpuStatsGauges, startGpuStatsSampler,
} from './gpu-stats.js';
import type { GpuStatsReading, GpuStatsSource } from './gpu-stats.js';
import type { NvidiaSmi } from './nvidia-smi.js';

const MIB = 1024 ** 2;

// As an 8x H100 box prints it (first two GPUs; uuids made up, same format).
const H100_OUTPUT = [
  '0, GPU-3b4f1c2d-8e7a-4a51-9f0e-2d6c5b1a7e90, 37, 12034, 81559, 45',
  '1, GPU-9c0e5a7b-1d2f-4e3a-8b6c-7f1e0d9a2b34, 0, 4, 81559, 31',
  '',
].join('\n');

const smiSaying = (stdout: string): NvidiaSmi => ({ run: () => Promise.resolve({ ok: true, stdout }) });

describe('parseGpuStats', () => {
  it('reads utilization as a fraction, memory in bytes and temperature', () => {
    expect(parseGpuStats(H100_OUTPUT)).toEqual({
      stats: [
        { index: 0, uuid: 'GPU-3b4f1c2d-8e7a-4a51-9f0e-2d6c5b1a7e90', utilization: 0.37, memoryUsed: 12034 * MIB, memoryTotal: 81559 * MIB, temperature: 45 },
        { index: 1, uuid: 'GPU-9c0e5a7b-1d2f-4e3a-8b6c-7f1e0d9a2b34', utilization: 0, memoryUsed: 4 * MIB, memoryTotal: 81559 * MIB, temperature: 31 },
      ],
      skipped: [],
    });
  });

  it('gives null for values the driver does not report (MIG, vGPU)', () => {
    const { stats, skipped } = parseGpuStats('0, GPU-aaaa, [N/A], [Not Supported], 81559, [N/A]\r\n');
    expect(skipped).toEqual([]);
    expect(stats).toEqual([{ index: 0, uuid: 'GPU-aaaa', utilization: null, memoryUsed: null, memoryTotal: 81559 * MIB, temperature: null }]);
  });

  it('is empty for zero GPUs or blank output', () => {
    expect(parseGpuStats('')).toEqual({ stats: [], skipped: [] });
    expect(parseGpuStats('\n\r\n  \n')).toEqual({ stats: [], skipped: [] });
  });

  it('skips rows it cannot read, with the reason, and keeps the others', () => {
    const out = [
      'No devices were found',
      '0, GPU-aaaa, 37',
      'x, GPU-bbbb, 1, 2, 3, 4',
      '2, , 1, 2, 3, 4',
      '3, GPU-dddd, lots, 2, 3, 4',
      '4, GPU-eeee, 150, 2, 3, 4',
      '5, GPU-ffff, 1, -2, 3, 4',
      '6, GPU-gggg, 50, 1024, 2048, 60',
      '6, GPU-hhhh, 50, 1024, 2048, 60',
    ].join('\n');
    const { stats, skipped } = parseGpuStats(out);
    expect(stats.map((s) => s.uuid)).toEqual(['GPU-gggg']);
    expect(skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/^expected 6 columns .* got 1$/),
      expect.stringMatching(/got 3$/),
      'bad index "x"',
      'no uuid',
      'bad utilization.gpu "lots"',
      'utilization.gpu 150 is above 100',
      'bad memory.used "-2"',
      'index 6 listed twice',
    ]);
    expect(skipped[0]?.line).toBe('No devices were found');
  });

  it('never throws, whatever it is given', () => {
    for (const junk of ['\u0000\u0001', ',,,,,', '[N/A], [N/A], 1, 2, 3, 4', 'a,b\nc', '1'.repeat(10_000)]) {
      expect(() => parseGpuStats(junk)).not.toThrow();
      expect(parseGpuStats(junk).stats).toEqual([]);
    }
  });
});

describe('createNvidiaSmiStats', () => {
  it('runs the stats query through the nvidia-smi wrapper', async () => {
    const seen: (readonly string[])[] = [];
    const smi: NvidiaSmi = {
      run: (args) => {
        seen.push(args);
        return Promise.resolve({ ok: true, stdout: '0, GPU-aaaa, 5, 1, 2, 40\n' });
      },
    };
    const reading = await createNvidiaSmiStats(smi).read();
    expect(seen).toEqual([NVIDIA_SMI_STATS_QUERY]);
    expect(NVIDIA_SMI_STATS_QUERY[0]).toBe('--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu');
    expect(reading).toEqual({
      stats: [{ index: 0, uuid: 'GPU-aaaa', utilization: 0.05, memoryUsed: MIB, memoryTotal: 2 * MIB, temperature: 40 }],
      skipped: [],
      note: '',
    });
  });

  it('reports failures in note instead of throwing', async () => {
    const missing: NvidiaSmi = { run: () => Promise.resolve({ ok: false, reason: 'nvidia-smi not found' }) };
    expect(await createNvidiaSmiStats(missing).read()).toEqual({ stats: [], skipped: [], note: 'nvidia-smi not found' });
    const garbage = await createNvidiaSmiStats(smiSaying('what\n')).read();
    expect(garbage).toMatchObject({ stats: [], note: '', skipped: [{ line: 'what' }] });
  });
});

/** The value of `name` for the GPU labelled `gpu`, or undefined when it has no series. */
async function valueOf(registry: Registry, name: string, gpu: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => v.labels.gpu === gpu)?.value;
}

describe('registerGpuStatsGauges', () => {
  it('sets the three gauges labelled by gpu index and uuid', async () => {
    const registry = new Registry();
    registerGpuStatsGauges(registry).update({ ...parseGpuStats(H100_OUTPUT), note: '' });
    const text = await registry.metrics();
    expect(text).toContain('gridline_gpu_utilization_ratio{gpu="0",uuid="GPU-3b4f1c2d-8e7a-4a51-9f0e-2d6c5b1a7e90"} 0.37');
    expect(text).toContain(`gridline_gpu_memory_used_bytes{gpu="0",uuid="GPU-3b4f1c2d-8e7a-4a51-9f0e-2d6c5b1a7e90"} ${12034 * MIB}`);
    expect(text).toContain(`gridline_gpu_memory_total_bytes{gpu="1",uuid="GPU-9c0e5a7b-1d2f-4e3a-8b6c-7f1e0d9a2b34"} ${81559 * MIB}`);
  });

  it('leaves out values not reported, and GPUs no longer listed', async () => {
    const registry = new Registry();
    const gauges = registerGpuStatsGauges(registry);
    gauges.update({ ...parseGpuStats(H100_OUTPUT), note: '' });
    gauges.update({ ...parseGpuStats('1, GPU-bbbb, [N/A], 10, 20, 30'), note: '' });
    expect(await valueOf(registry, 'gridline_gpu_utilization_ratio', '0')).toBeUndefined();
    expect(await valueOf(registry, 'gridline_gpu_utilization_ratio', '1')).toBeUndefined();
    expect(await valueOf(registry, 'gridline_gpu_memory_used_bytes', '1')).toBe(10 * MIB);
    gauges.update({ stats: [], skipped: [], note: 'nvidia-smi not found' });
    expect(await valueOf(registry, 'gridline_gpu_memory_total_bytes', '1')).toBeUndefined();
  });
});

describe('startGpuStatsSampler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A source whose reads finish only when the test says so. */
  function heldSource(): { source: GpuStatsSource; reads: number; finish(stdout: string): void } {
    const pending: ((reading: GpuStatsReading) => void)[] = [];
    const held = {
      reads: 0,
      source: {
        read: () => {
          held.reads += 1;
          return new Promise<GpuStatsReading>((resolve) => pending.push(resolve));
        },
      },
      finish(stdout: string) {
        pending.shift()?.({ ...parseGpuStats(stdout), note: '' });
      },
    };
    return held;
  }

  it('samples at once into the registry', async () => {
    const registry = new Registry();
    const sampler = startGpuStatsSampler({ registry, source: createNvidiaSmiStats(smiSaying(H100_OUTPUT)), intervalMs: 60_000 });
    const reading = await sampler.sample();
    expect(reading.stats).toHaveLength(2);
    expect(await valueOf(registry, 'gridline_gpu_utilization_ratio', '0')).toBe(0.37);
    await sampler.stop();
  });

  it('never overlaps runs, and samples again after the interval', async () => {
    vi.useFakeTimers();
    const held = heldSource();
    const registry = new Registry();
    const sampler = startGpuStatsSampler({ registry, source: held.source, intervalMs: 1_000 });
    expect(held.reads).toBe(1);
    const joined = sampler.sample();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(held.reads).toBe(1);
    held.finish('0, GPU-aaaa, 50, 1, 2, 3');
    expect((await joined).stats).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(held.reads).toBe(2);
    held.finish('0, GPU-aaaa, 75, 1, 2, 3');
    await vi.advanceTimersByTimeAsync(0);
    expect(await valueOf(registry, 'gridline_gpu_utilization_ratio', '0')).toBe(0.75);
    await sampler.stop();
  });

  it('stops cleanly: waits for the run in progress and starts no other', async () => {
    vi.useFakeTimers();
    const held = heldSource();
    const sampler = startGpuStatsSampler({ registry: new Registry(), source: held.source, intervalMs: 1_000 });
    let stopped = false;
    const stopping = sampler.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    held.finish('0, GPU-aaaa, 50, 1, 2, 3');
    await stopping;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(held.reads).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    expect((await sampler.sample()).stats).toHaveLength(1);
    expect(held.reads).toBe(1);
  });

  it('logs a failure once, not every interval, and a source that throws does not stop it', async () => {
    vi.useFakeTimers();
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_o: object | string, msg?: string) => warnings.push(msg ?? ''), child: () => logger };
    let reads = 0;
    const source: GpuStatsSource = {
      read: () => {
        reads += 1;
        return Promise.reject(new Error('driver wedged'));
      },
    };
    const sampler = startGpuStatsSampler({ registry: new Registry(), source, intervalMs: 1_000, logger });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(reads).toBe(4);
    expect(warnings).toEqual(['no GPU stats: driver wedged']);
    await sampler.stop();
  });
});

import { describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import { createNvidiaSmiStats, NVIDIA_SMI_STATS_QUERY, parseGpuStats } from './gpu-stats.js';
import type { NvidiaSmi } from './nvidia-smi.js';

const MIB = 1024 ** 2;

describe('parseGpuStats', () => {
  it('reads utilization as a fraction and memory in bytes', () => {
    const out = '0, GPU-aaaa, 37, 12034, 81559\n1, GPU-bbbb, 0, 4, 81559\n';
    expect(parseGpuStats(out)).toEqual([
      { index: 0, uuid: 'GPU-aaaa', utilization: 0.37, memoryUsed: 12034 * MIB, memoryTotal: 81559 * MIB },
      { index: 1, uuid: 'GPU-bbbb', utilization: 0, memoryUsed: 4 * MIB, memoryTotal: 81559 * MIB },
    ]);
  });

  it('gives null for values the driver does not report', () => {
    expect(parseGpuStats('0, GPU-aaaa, [N/A], [Not Supported], 81559')[0]).toMatchObject({
      utilization: null,
      memoryUsed: null,
      memoryTotal: 81559 * MIB,
    });
  });

  it('rejects rows of the wrong shape', () => {
    expect(() => parseGpuStats('0, GPU-aaaa, 37')).toThrow(GridlineError);
  });
});

describe('createNvidiaSmiStats', () => {
  it('runs the stats query', async () => {
    const seen: (readonly string[])[] = [];
    const smi: NvidiaSmi = {
      run: (args) => {
        seen.push(args);
        return Promise.resolve({ ok: true, stdout: '0, GPU-aaaa, 5, 1, 2\n' });
      },
    };
    const reading = await createNvidiaSmiStats(smi).read();
    expect(seen).toEqual([NVIDIA_SMI_STATS_QUERY]);
    expect(reading).toEqual({ stats: [{ index: 0, uuid: 'GPU-aaaa', utilization: 0.05, memoryUsed: MIB, memoryTotal: 2 * MIB }], note: '' });
  });

  it('reports failures in note instead of throwing', async () => {
    const missing: NvidiaSmi = { run: () => Promise.resolve({ ok: false, reason: 'nvidia-smi not found' }) };
    expect(await createNvidiaSmiStats(missing).read()).toEqual({ stats: [], note: 'nvidia-smi not found' });
    const garbage: NvidiaSmi = { run: () => Promise.resolve({ ok: true, stdout: 'what\n' }) };
    expect((await createNvidiaSmiStats(garbage).read()).note).toMatch(/^unexpected nvidia-smi output/);
  });
});

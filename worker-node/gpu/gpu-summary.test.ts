import { describe, expect, it } from 'vitest';
import type { GpuInfo } from './gpu-info.js';
import { formatGib, summarizeGpus } from './gpu-summary.js';

const MIB = 1024 ** 2;
const gpu = (index: number, model: string, mib: number): GpuInfo => ({ index, uuid: `u${index}`, model, memory: mib * MIB, simulated: false });

describe('summarizeGpus', () => {
  it('groups runs of identical GPUs', () => {
    expect(summarizeGpus([gpu(0, 'A', 81559), gpu(1, 'A', 81559), gpu(2, 'B', 16384), gpu(3, 'A', 81559)])).toBe(
      '2x A (79.6 GiB), 1x B (16 GiB), 1x A (79.6 GiB)',
    );
  });

  it('is empty for no GPUs', () => {
    expect(summarizeGpus([])).toBe('');
  });
});

describe('formatGib', () => {
  it('shows one decimal only when needed', () => {
    expect(formatGib(80 * 1024 * MIB)).toBe('80 GiB');
    expect(formatGib(23034 * MIB)).toBe('22.5 GiB');
  });
});

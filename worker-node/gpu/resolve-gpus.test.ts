import { describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import type { NvidiaSmi } from './nvidia-smi.js';
import { GPU_PROBES, resolveGpus } from './resolve-gpus.js';

const twoL4: NvidiaSmi = {
  run: () => Promise.resolve({ ok: true, stdout: '0, GPU-aaaa, NVIDIA L4, 23034\n1, GPU-bbbb, NVIDIA L4, 23034\n' }),
};
const missing: NvidiaSmi = { run: () => Promise.resolve({ ok: false, reason: 'nvidia-smi not found' }) };

describe('resolveGpus', () => {
  it('asks nvidia-smi when the flag is absent or auto', async () => {
    for (const spec of [undefined, 'auto', 'AUTO', 'nvidia-smi']) {
      const { gpus, note } = await resolveGpus(spec, { nvidiaSmi: twoL4 });
      expect(gpus.map((g) => g.uuid)).toEqual(['GPU-aaaa', 'GPU-bbbb']);
      expect(note).toBe('nvidia-smi found 2x NVIDIA L4 (22.5 GiB)');
    }
  });

  it('falls back to a CPU node without nvidia-smi', async () => {
    expect(await resolveGpus('auto', { nvidiaSmi: missing })).toEqual({
      gpus: [],
      note: 'nvidia-smi not found: running as a CPU node',
    });
  });

  it('offers no GPUs for none, without running nvidia-smi', async () => {
    const untouchable: NvidiaSmi = { run: () => Promise.reject(new Error('must not run')) };
    expect((await resolveGpus('none', { nvidiaSmi: untouchable })).gpus).toEqual([]);
  });

  it('simulates GPUs for sim:', async () => {
    const { gpus, note } = await resolveGpus('sim:2xA100-80GB');
    expect(gpus.map((g) => [g.uuid, g.model, g.simulated])).toEqual([
      ['sim-0', 'A100', true],
      ['sim-1', 'A100', true],
    ]);
    expect(note).toBe('simulating 2x A100 (80 GiB)');
  });

  it.each([
    ['', /"" is not one of auto, none, nvidia-smi or sim:/],
    ['cuda', /"cuda" is not one of/],
    ['toString', /"toString" is not one of/],
    ['sim', /needs a list/],
    ['sim:', /needs a list/],
    ['none:2', /"none" takes no argument/],
    ['auto:0', /"nvidia-smi" takes no argument/],
    ['sim:2xA100', /"2xA100"/],
  ])('rejects --gpus %j', async (spec, message) => {
    const result = resolveGpus(spec, { nvidiaSmi: missing });
    await expect(result).rejects.toBeInstanceOf(GridlineError);
    await expect(result).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message });
  });

  it('registers the named probes', () => {
    expect(Object.keys(GPU_PROBES).sort()).toEqual(['none', 'nvidia-smi', 'sim']);
  });
});

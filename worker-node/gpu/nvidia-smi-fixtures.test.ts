import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNvidiaSmiStats, NVIDIA_SMI_STATS_QUERY, parseGpuStats, registerGpuStatsGauges } from './gpu-stats.js';
import { createNvidiaSmi } from './nvidia-smi.js';
import { createNvidiaSmiProbe, NVIDIA_SMI_GPU_QUERY, parseNvidiaSmiGpus } from './nvidia-smi-probe.js';
import { resolveGpus } from './resolve-gpus.js';

// Real output of the worker's own nvidia-smi queries on one NVIDIA H200 (see fixtures/README.md).
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const MIB = 1024 ** 2;
const UUID = 'GPU-9c413394-562c-6eb4-782b-683070d017ab';
const TOTAL_MIB = 143771;

// The command lines the fixtures were captured with: if the queries change, recapture them.
const CAPTURED_GPU_QUERY = ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader,nounits'];
const CAPTURED_STATS_QUERY = [
  '--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu',
  '--format=csv,noheader,nounits',
];

describe('nvidia-smi output captured on an H200', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridline-nvidia-smi-h200-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A stand-in nvidia-smi that prints the capture only when called with exactly the captured arguments. */
  async function replay(name: string, args: readonly string[], file: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, [
      '#!/bin/sh',
      `if [ "$#" -ne ${args.length} ] || [ "$*" != ${JSON.stringify(args.join(' '))} ]; then`,
      '  echo "unexpected arguments: $*" >&2; exit 2',
      'fi',
      `exec cat '${fixture(file)}'`,
      '',
    ].join('\n'));
    await chmod(path, 0o755);
    return path;
  }

  it('was captured with the queries the worker runs', () => {
    expect(NVIDIA_SMI_GPU_QUERY).toEqual(CAPTURED_GPU_QUERY);
    expect(NVIDIA_SMI_STATS_QUERY).toEqual(CAPTURED_STATS_QUERY);
  });

  it('parses the probe output into one H200 with its uuid and memory in bytes', async () => {
    const gpus = parseNvidiaSmiGpus(await readFile(fixture('h200-probe.csv'), 'utf8'));
    expect(gpus).toEqual([{ index: 0, uuid: UUID, model: 'NVIDIA H200', memory: TOTAL_MIB * MIB, simulated: false }]);
    // The same GPU `nvidia-smi -L` lists.
    expect(await readFile(fixture('h200-list.txt'), 'utf8')).toBe(`GPU 0: NVIDIA H200 (UUID: ${UUID})\n`);
  });

  it('finds the H200 through the real nvidia-smi runner, as `--gpus auto` does', async () => {
    const binary = await replay('probe.sh', CAPTURED_GPU_QUERY, 'h200-probe.csv');
    const nvidiaSmi = createNvidiaSmi({ binary });
    const expected = {
      gpus: [{ index: 0, uuid: UUID, model: 'NVIDIA H200', memory: TOTAL_MIB * MIB, simulated: false }],
      note: 'nvidia-smi found 1x NVIDIA H200 (140.4 GiB)',
    };
    expect(await createNvidiaSmiProbe(nvidiaSmi).probe()).toEqual(expected);
    expect(await resolveGpus(undefined, { nvidiaSmi })).toEqual(expected);
    expect(await resolveGpus('nvidia-smi', { nvidiaSmi })).toEqual(expected);
  });

  it('parses idle stats', async () => {
    expect(parseGpuStats(await readFile(fixture('h200-stats-idle.csv'), 'utf8'))).toEqual({
      stats: [{ index: 0, uuid: UUID, utilization: 0, memoryUsed: 0, memoryTotal: TOTAL_MIB * MIB, temperature: 37 }],
      skipped: [],
    });
  });

  it('parses stats under load', async () => {
    expect(parseGpuStats(await readFile(fixture('h200-stats-load.csv'), 'utf8'))).toEqual({
      stats: [{ index: 0, uuid: UUID, utilization: 1, memoryUsed: 1395 * MIB, memoryTotal: TOTAL_MIB * MIB, temperature: 60 }],
      skipped: [],
    });
  });

  it('samples the stats through the real nvidia-smi runner into the gauges', async () => {
    const binary = await replay('stats.sh', CAPTURED_STATS_QUERY, 'h200-stats-load.csv');
    const reading = await createNvidiaSmiStats(createNvidiaSmi({ binary })).read();
    expect(reading.note).toBe('');
    expect(reading.skipped).toEqual([]);
    expect(reading.stats).toHaveLength(1);

    const registry = new Registry();
    registerGpuStatsGauges(registry).update(reading);
    const value = async (name: string): Promise<unknown> =>
      (await registry.getSingleMetric(name)?.get())?.values.map((v) => [v.labels, v.value]);
    const labels = { gpu: '0', uuid: UUID };
    expect(await value('gridline_gpu_utilization_ratio')).toEqual([[labels, 1]]);
    expect(await value('gridline_gpu_memory_used_bytes')).toEqual([[labels, 1395 * MIB]]);
    expect(await value('gridline_gpu_memory_total_bytes')).toEqual([[labels, TOTAL_MIB * MIB]]);
  });
});

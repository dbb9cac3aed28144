import { isGridlineError } from '../../common/errors.js';
import type { GpuInfo, GpuProbe } from './gpu-info.js';
import { summarizeGpus } from './gpu-summary.js';
import type { NvidiaSmi } from './nvidia-smi.js';
import { createNvidiaSmi } from './nvidia-smi.js';
import { nvidiaSmiNumber, parseNvidiaSmiCsv, unexpectedNvidiaSmiOutput } from './nvidia-smi-csv.js';

export const NVIDIA_SMI_GPU_QUERY = [
  '--query-gpu=index,uuid,name,memory.total',
  '--format=csv,noheader,nounits',
] as const;

const MIB = 1024 ** 2;
const CPU_NODE = 'running as a CPU node';

/** Parses the output of NVIDIA_SMI_GPU_QUERY; throws GridlineError('INTERNAL') on a row it cannot read. */
export function parseNvidiaSmiGpus(stdout: string): GpuInfo[] {
  return parseNvidiaSmiCsv(stdout).map((row) => {
    if (row.length < 4) throw unexpectedNvidiaSmiOutput(row, 'expected index, uuid, name, memory.total');
    // A model name is free text: rejoin it if it ever contains a comma.
    const [indexCell = '', uuid = ''] = row;
    const memoryCell = row.at(-1) ?? '';
    const model = row.slice(2, -1).join(', ');
    const index = nvidiaSmiNumber(indexCell);
    const memoryMib = nvidiaSmiNumber(memoryCell);
    if (index === null || !Number.isInteger(index) || index < 0) throw unexpectedNvidiaSmiOutput(row, 'bad index');
    if (memoryMib === null || memoryMib < 0) throw unexpectedNvidiaSmiOutput(row, 'bad memory.total');
    if (uuid === '') throw unexpectedNvidiaSmiOutput(row, 'empty uuid');
    return { index, uuid, model, memory: Math.round(memoryMib * MIB), simulated: false };
  });
}

/** The real GPUs, as nvidia-smi lists them; no nvidia-smi or a failing one means a CPU node, not an error. */
export function createNvidiaSmiProbe(nvidiaSmi: NvidiaSmi = createNvidiaSmi()): GpuProbe {
  return {
    async probe() {
      const outcome = await nvidiaSmi.run(NVIDIA_SMI_GPU_QUERY);
      if (!outcome.ok) return { gpus: [], note: `${outcome.reason}: ${CPU_NODE}` };
      let gpus: GpuInfo[];
      try {
        gpus = parseNvidiaSmiGpus(outcome.stdout);
      } catch (err) {
        if (!isGridlineError(err)) throw err;
        return { gpus: [], note: `${err.message}: ${CPU_NODE}` };
      }
      if (gpus.length === 0) return { gpus, note: `nvidia-smi lists no GPUs: ${CPU_NODE}` };
      return { gpus, note: `nvidia-smi found ${summarizeGpus(gpus)}` };
    },
  };
}

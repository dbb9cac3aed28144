import { isGridlineError } from '../../common/errors.js';
import type { NvidiaSmi } from './nvidia-smi.js';
import { createNvidiaSmi } from './nvidia-smi.js';
import { nvidiaSmiNumber, parseNvidiaSmiCsv, unexpectedNvidiaSmiOutput } from './nvidia-smi-csv.js';

/** Live load of one GPU; null where the driver does not report a value (MIG instances, some vGPUs). */
export interface GpuStats {
  readonly index: number;
  readonly uuid: string;
  /** Fraction of the last sample period a kernel ran, 0..1. */
  readonly utilization: number | null;
  /** Bytes. */
  readonly memoryUsed: number | null;
  /** Bytes. */
  readonly memoryTotal: number | null;
}

export interface GpuStatsReading {
  readonly stats: GpuStats[];
  /** Empty when all went well; otherwise why `stats` is empty. */
  readonly note: string;
}

export interface GpuStatsSource {
  read(): Promise<GpuStatsReading>;
}

export const NVIDIA_SMI_STATS_QUERY = [
  '--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
] as const;

const MIB = 1024 ** 2;

/** Parses the output of NVIDIA_SMI_STATS_QUERY; throws GridlineError('INTERNAL') on a row it cannot read. */
export function parseGpuStats(stdout: string): GpuStats[] {
  return parseNvidiaSmiCsv(stdout).map((row) => {
    if (row.length !== 5) {
      throw unexpectedNvidiaSmiOutput(row, 'expected index, uuid, utilization.gpu, memory.used, memory.total');
    }
    const [indexCell = '', uuid = '', utilCell = '', usedCell = '', totalCell = ''] = row;
    const index = nvidiaSmiNumber(indexCell);
    if (index === null || !Number.isInteger(index) || index < 0) throw unexpectedNvidiaSmiOutput(row, 'bad index');
    const percent = nvidiaSmiNumber(utilCell);
    return {
      index,
      uuid,
      utilization: percent === null ? null : percent / 100,
      memoryUsed: mibToBytes(nvidiaSmiNumber(usedCell)),
      memoryTotal: mibToBytes(nvidiaSmiNumber(totalCell)),
    };
  });
}

/** Stats sampled through nvidia-smi; a failure is reported in `note`, since metrics must not crash a worker. */
export function createNvidiaSmiStats(nvidiaSmi: NvidiaSmi = createNvidiaSmi()): GpuStatsSource {
  return {
    async read() {
      const outcome = await nvidiaSmi.run(NVIDIA_SMI_STATS_QUERY);
      if (!outcome.ok) return { stats: [], note: outcome.reason };
      try {
        return { stats: parseGpuStats(outcome.stdout), note: '' };
      } catch (err) {
        if (!isGridlineError(err)) throw err;
        return { stats: [], note: err.message };
      }
    },
  };
}

function mibToBytes(mib: number | null): number | null {
  return mib === null ? null : Math.round(mib * MIB);
}

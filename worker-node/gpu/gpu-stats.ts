import { Gauge, type Registry } from 'prom-client';
import { silentLogger, type Logger } from '../../common/logger.js';
import type { NvidiaSmi } from './nvidia-smi.js';
import { createNvidiaSmi } from './nvidia-smi.js';
import { parseNvidiaSmiCsv } from './nvidia-smi-csv.js';

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
  /** Degrees Celsius. */
  readonly temperature: number | null;
}

/** A line of nvidia-smi output that was left out, and why. */
export interface SkippedGpuRow {
  readonly line: string;
  readonly reason: string;
}

export interface GpuStatsReading {
  readonly stats: GpuStats[];
  /** Rows that could not be read; the others are still in `stats`. */
  readonly skipped: SkippedGpuRow[];
  /** Empty when nvidia-smi answered; otherwise why there are no stats at all. */
  readonly note: string;
}

export interface GpuStatsSource {
  read(): Promise<GpuStatsReading>;
}

export const NVIDIA_SMI_STATS_QUERY = [
  '--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu',
  '--format=csv,noheader,nounits',
] as const;

const COLUMNS = 6;
const MIB = 1024 ** 2;

/**
 * Parses the output of NVIDIA_SMI_STATS_QUERY. Never throws: metrics must not crash a worker, so a
 * row it cannot read is skipped with the reason, and "[N/A]" / "[Not Supported]" become null.
 */
export function parseGpuStats(stdout: string): { stats: GpuStats[]; skipped: SkippedGpuRow[] } {
  const stats: GpuStats[] = [];
  const skipped: SkippedGpuRow[] = [];
  const seen = new Set<number>();
  for (const row of parseNvidiaSmiCsv(stdout)) {
    const line = row.join(', ');
    const skip = (reason: string): void => {
      skipped.push({ line, reason });
    };
    if (row.length !== COLUMNS) {
      skip(`expected ${COLUMNS} columns (index, uuid, utilization.gpu, memory.used, memory.total, temperature.gpu), got ${row.length}`);
      continue;
    }
    const [indexCell = '', uuid = '', ...valueCells] = row;
    const index = Number(indexCell);
    if (indexCell === '' || !Number.isInteger(index) || index < 0) {
      skip(`bad index "${indexCell}"`);
      continue;
    }
    if (uuid === '' || uuid.startsWith('[')) {
      skip('no uuid');
      continue;
    }
    if (seen.has(index)) {
      skip(`index ${index} listed twice`);
      continue;
    }
    const values: (number | null)[] = [];
    const bad = valueCells.findIndex((cell) => {
      const value = readCell(cell);
      if (value !== undefined) values.push(value);
      return value === undefined;
    });
    if (bad !== -1) {
      skip(`bad ${VALUE_NAMES[bad] ?? 'value'} "${valueCells[bad] ?? ''}"`);
      continue;
    }
    const [percent = null, usedMib = null, totalMib = null, celsius = null] = values;
    if (percent !== null && percent > 100) {
      skip(`utilization.gpu ${percent} is above 100`);
      continue;
    }
    seen.add(index);
    stats.push({
      index,
      uuid,
      utilization: percent === null ? null : percent / 100,
      memoryUsed: mibToBytes(usedMib),
      memoryTotal: mibToBytes(totalMib),
      temperature: celsius,
    });
  }
  return { stats, skipped };
}

const VALUE_NAMES = ['utilization.gpu', 'memory.used', 'memory.total', 'temperature.gpu'];

/** A value cell: a number, null for nvidia-smi's "[N/A]"-style markers, undefined for anything else. */
function readCell(cell: string): number | null | undefined {
  if (cell.startsWith('[') && cell.endsWith(']')) return null;
  const value = Number(cell);
  // Temperatures are never negative on a running GPU; neither are the other columns.
  return cell !== '' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function mibToBytes(mib: number | null): number | null {
  return mib === null ? null : Math.round(mib * MIB);
}

/** Stats sampled through nvidia-smi; a failure is reported in `note`, never thrown. */
export function createNvidiaSmiStats(nvidiaSmi: NvidiaSmi = createNvidiaSmi()): GpuStatsSource {
  return {
    async read() {
      const outcome = await nvidiaSmi.run(NVIDIA_SMI_STATS_QUERY);
      if (!outcome.ok) return { stats: [], skipped: [], note: outcome.reason };
      return { ...parseGpuStats(outcome.stdout), note: '' };
    },
  };
}

export interface GpuStatsGauges {
  /** Replaces every series with the reading's: a GPU that is gone or a value not reported has none. */
  update(reading: GpuStatsReading): void;
}

/** Registers gridline_gpu_{utilization_ratio,memory_used_bytes,memory_total_bytes} labelled gpu and uuid. */
export function registerGpuStatsGauges(registry: Registry): GpuStatsGauges {
  const labelNames = ['gpu', 'uuid'] as const;
  const utilization = new Gauge({
    name: 'gridline_gpu_utilization_ratio',
    help: 'Fraction of the last sample period a kernel ran on the GPU (nvidia-smi utilization.gpu), 0..1.',
    labelNames, registers: [registry],
  });
  const memoryUsed = new Gauge({
    name: 'gridline_gpu_memory_used_bytes',
    help: 'GPU memory in use, by every process on the GPU, in bytes.',
    labelNames, registers: [registry],
  });
  const memoryTotal = new Gauge({
    name: 'gridline_gpu_memory_total_bytes',
    help: 'GPU memory in total, in bytes.',
    labelNames, registers: [registry],
  });
  const gauges = [utilization, memoryUsed, memoryTotal] as const;
  return {
    update(reading) {
      // Reset and set in one synchronous step, so a scrape sees one whole sample; a stale value
      // for a GPU that fell off the bus would be worse than none.
      for (const gauge of gauges) gauge.reset();
      for (const s of reading.stats) {
        const labels = { gpu: String(s.index), uuid: s.uuid };
        if (s.utilization !== null) utilization.set(labels, s.utilization);
        if (s.memoryUsed !== null) memoryUsed.set(labels, s.memoryUsed);
        if (s.memoryTotal !== null) memoryTotal.set(labels, s.memoryTotal);
      }
    },
  };
}

export interface GpuStatsSamplerOptions {
  /** Where the gauges are registered. */
  readonly registry: Registry;
  /** Default: nvidia-smi. */
  readonly source?: GpuStatsSource;
  /** Pause between the end of one sample and the start of the next (default 5 s). */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

export interface GpuStatsSampler {
  /** Samples now, or joins the sample in progress: runs never overlap. After stop(), the last reading. */
  sample(): Promise<GpuStatsReading>;
  /** No sample starts after this; resolves once the one in progress has ended. */
  stop(): Promise<void>;
}

export const DEFAULT_GPU_STATS_INTERVAL_MS = 5_000;

const EMPTY: GpuStatsReading = { stats: [], skipped: [], note: 'not sampled yet' };

/**
 * Samples GPU load into the gauges at once and then every `intervalMs`. Sampling runs on a timer
 * rather than in a scrape's collect() hook: nvidia-smi can take seconds when the driver is busy,
 * and a scrape should not wait on it (nor start one nvidia-smi per concurrent scrape). The timer
 * is unref'd, so it never keeps the process alive. Only for real GPUs: simulated ones have no
 * nvidia-smi behind them.
 */
export function startGpuStatsSampler(options: GpuStatsSamplerOptions): GpuStatsSampler {
  const source = options.source ?? createNvidiaSmiStats();
  const intervalMs = options.intervalMs ?? DEFAULT_GPU_STATS_INTERVAL_MS;
  const logger = options.logger ?? silentLogger;
  const gauges = registerGpuStatsGauges(options.registry);
  let last = EMPTY;
  let running: Promise<GpuStatsReading> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Logged when it changes, not every interval: a node without a driver would flood the log.
  let lastProblem = '';

  const run = async (): Promise<GpuStatsReading> => {
    let reading: GpuStatsReading;
    try {
      reading = await source.read();
    } catch (err) {
      reading = { stats: [], skipped: [], note: err instanceof Error ? err.message : String(err) };
    }
    gauges.update(reading);
    last = reading;
    const problem = reading.note !== ''
      ? `no GPU stats: ${reading.note}`
      : reading.skipped.map((s) => `skipped "${s.line}": ${s.reason}`).join('; ');
    if (problem !== lastProblem) {
      if (problem !== '') logger.warn({ skipped: reading.skipped }, problem);
      else logger.info({ gpus: reading.stats.length }, 'GPU stats readable again');
      lastProblem = problem;
    }
    return reading;
  };

  const sample = (): Promise<GpuStatsReading> => {
    if (running) return running;
    if (stopped) return Promise.resolve(last);
    running = run().finally(() => {
      running = null;
    });
    return running;
  };

  const tick = (): void => {
    void sample().catch((err: unknown) => {
      logger.error({ err }, 'sampling GPU stats failed');
    }).then(() => {
      if (stopped) return;
      timer = setTimeout(tick, intervalMs);
      timer.unref();
    });
  };
  tick();

  return {
    sample,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (running) await running;
    },
  };
}

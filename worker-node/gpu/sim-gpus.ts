import { GridlineError } from '../../common/errors.js';
import type { GpuInfo, GpuProbe } from './gpu-info.js';
import { summarizeGpus } from './gpu-summary.js';

const GIB = 1024 ** 3;
/** Enough for any real box; stops `sim:100000000xA100-80GB` from allocating a huge list. */
const MAX_SIM_GPUS = 64;
const EXAMPLE = 'e.g. sim:2xA100-80GB or sim:1xT4-16GB,1xL4-24GB';
// [<count>x]<MODEL>-<N>GB; the model may itself contain hyphens ("RTX-4090-24GB").
const ENTRY = /^(?:(\d+)x)?([A-Za-z0-9][A-Za-z0-9_.-]*)-(\d+)GB$/i;

/**
 * Simulated GPUs from the list after `sim:` ("2xA100-80GB,1xL4-24GB"), numbered from 0 in order.
 * "80GB" means 80 GiB: a simulated card needs a round size, not a datasheet's.
 */
export function parseSimGpus(list: string): GpuInfo[] {
  if (list.trim() === '') throw invalid(`"sim:" needs a list of GPUs (${EXAMPLE})`, list);
  const gpus: GpuInfo[] = [];
  for (const raw of list.split(',')) {
    const part = raw.trim();
    const match = ENTRY.exec(part);
    if (!match) {
      throw invalid(`"${part}" in "sim:${list}" is not [<count>x]<MODEL>-<N>GB (${EXAMPLE})`, list, part);
    }
    const [, countText, model = '', gbText = ''] = match;
    const count = countText === undefined ? 1 : Number(countText);
    const gb = Number(gbText);
    if (count < 1) throw invalid(`"${part}" in "sim:${list}" asks for ${count} GPUs: the count must be at least 1`, list, part);
    if (gb < 1) throw invalid(`"${part}" in "sim:${list}" has ${gb}GB of memory: it must be at least 1GB`, list, part);
    if (gpus.length + count > MAX_SIM_GPUS) {
      throw invalid(`"sim:${list}" asks for more than ${MAX_SIM_GPUS} simulated GPUs`, list, part);
    }
    for (let i = 0; i < count; i += 1) {
      const index = gpus.length;
      gpus.push({ index, uuid: `sim-${index}`, model, memory: gb * GIB, simulated: true });
    }
  }
  return gpus;
}

/** A probe that returns the parsed list; the list is checked now, so a bad flag fails at startup. */
export function createSimProbe(list: string): GpuProbe {
  const gpus = parseSimGpus(list);
  const note = `simulating ${summarizeGpus(gpus)}`;
  return { probe: () => Promise.resolve({ gpus: gpus.map((gpu) => ({ ...gpu })), note }) };
}

function invalid(message: string, list: string, part?: string): GridlineError {
  return new GridlineError('INVALID_ARGUMENT', `--gpus: ${message}`, {
    details: { flag: '--gpus', value: `sim:${list}`, ...(part === undefined ? {} : { part }) },
  });
}

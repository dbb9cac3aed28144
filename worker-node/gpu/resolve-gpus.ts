import { GridlineError } from '../../common/errors.js';
import type { GpuProbe, GpuProbeResult } from './gpu-info.js';
import type { NvidiaSmi } from './nvidia-smi.js';
import { createNvidiaSmi } from './nvidia-smi.js';
import { createNvidiaSmiProbe } from './nvidia-smi-probe.js';
import { createSimProbe } from './sim-gpus.js';

/** What probes may need from outside; tests swap nvidia-smi for a fake. */
export interface GpuProbeDeps {
  readonly nvidiaSmi: NvidiaSmi;
}

type GpuProbeFactory = (arg: string | undefined, deps: GpuProbeDeps) => GpuProbe;

const noGpus: GpuProbe = {
  probe: () => Promise.resolve({ gpus: [], note: 'no GPUs (--gpus none): running as a CPU node' }),
};

/** The named probes a `--gpus <name>[:<arg>]` flag can select. */
export const GPU_PROBES: Readonly<Record<string, GpuProbeFactory>> = {
  'nvidia-smi': (arg, deps) => {
    noArg('nvidia-smi', arg);
    return createNvidiaSmiProbe(deps.nvidiaSmi);
  },
  sim: (arg) => createSimProbe(arg ?? ''),
  none: (arg) => {
    noArg('none', arg);
    return noGpus;
  },
};

/** `auto` is what a worker does without the flag: ask nvidia-smi, fall back to a CPU node. */
const ALIASES: Readonly<Record<string, string>> = { auto: 'nvidia-smi' };

const FORMS = 'auto, none, nvidia-smi or sim:<count>x<MODEL>-<N>GB[,...]';

/** The probe a `--gpus` value selects; undefined means auto. Throws GridlineError('INVALID_ARGUMENT'). */
export function gpuProbeFor(spec: string | undefined, deps: GpuProbeDeps = { nvidiaSmi: createNvidiaSmi() }): GpuProbe {
  const text = (spec ?? 'auto').trim();
  const colon = text.indexOf(':');
  const rawName = (colon === -1 ? text : text.slice(0, colon)).toLowerCase();
  const arg = colon === -1 ? undefined : text.slice(colon + 1);
  const name = ALIASES[rawName] ?? rawName;
  const factory = Object.hasOwn(GPU_PROBES, name) ? GPU_PROBES[name] : undefined;
  if (!factory) {
    throw new GridlineError('INVALID_ARGUMENT', `--gpus: "${text}" is not one of ${FORMS}`, {
      details: { flag: '--gpus', value: text },
    });
  }
  return factory(arg, deps);
}

/** The GPUs a `--gpus` value gives, with one line for the log. */
export async function resolveGpus(spec: string | undefined, deps?: GpuProbeDeps): Promise<GpuProbeResult> {
  return gpuProbeFor(spec, deps).probe();
}

function noArg(name: string, arg: string | undefined): void {
  if (arg !== undefined) {
    throw new GridlineError('INVALID_ARGUMENT', `--gpus: "${name}" takes no argument (got "${name}:${arg}")`, {
      details: { flag: '--gpus', value: `${name}:${arg}` },
    });
  }
}

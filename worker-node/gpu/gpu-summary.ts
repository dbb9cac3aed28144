import type { GpuInfo } from './gpu-info.js';

const GIB = 1024 ** 3;

export function formatGib(bytes: number): string {
  const gib = Math.round((bytes / GIB) * 10) / 10;
  return `${Number.isInteger(gib) ? gib.toFixed(0) : gib.toFixed(1)} GiB`;
}

/** "2x NVIDIA H100 80GB HBM3 (79.6 GiB), 1x NVIDIA L4 (22.5 GiB)": runs of identical GPUs are grouped. */
export function summarizeGpus(gpus: readonly GpuInfo[]): string {
  const groups: { label: string; count: number }[] = [];
  for (const gpu of gpus) {
    const label = `${gpu.model} (${formatGib(gpu.memory)})`;
    const last = groups.at(-1);
    if (last?.label === label) last.count += 1;
    else groups.push({ label, count: 1 });
  }
  return groups.map((g) => `${g.count}x ${g.label}`).join(', ');
}

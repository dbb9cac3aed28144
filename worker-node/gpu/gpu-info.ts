/** One GPU a worker node offers to the scheduler. */
export interface GpuInfo {
  /** The driver's index: what CUDA_VISIBLE_DEVICES selects with the default PCI bus order. */
  readonly index: number;
  /** Stable across reboots and re-enumeration, unlike `index`. */
  readonly uuid: string;
  readonly model: string;
  /** Total memory in bytes. */
  readonly memory: number;
  /** True for `--gpus sim:...`: scheduled like a real GPU, but nothing runs on a device. */
  readonly simulated: boolean;
}

export interface GpuProbeResult {
  readonly gpus: GpuInfo[];
  /** One line for the worker's log saying what was found, or why nothing was. */
  readonly note: string;
}

/** Finds the GPUs this node offers. Never throws for "no GPUs here": that is a CPU node, said in `note`. */
export interface GpuProbe {
  probe(): Promise<GpuProbeResult>;
}

/** Messages a side's child process (bench/side.ts) sends to bench/run.ts over the IPC channel. */
import type { BenchOptions, SideMeasurement, SideName } from './harness.js';

export interface SideRequest {
  readonly bench: string;
  readonly side: SideName;
  readonly options: BenchOptions;
}

export type SideMessage =
  | { readonly type: 'pids'; readonly pids: readonly number[] }
  | { readonly type: 'result'; readonly measurement: SideMeasurement; readonly wallMs: number }
  | { readonly type: 'error'; readonly message: string };

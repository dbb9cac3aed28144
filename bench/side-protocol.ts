/** The IPC messages between bench/run.ts and a side's child process (bench/side.ts). */
import type { BenchOptions, SideName, SideSummary } from './harness.js';

/** argv[2] of the child, as JSON. */
export interface SideRequest {
  readonly bench: string;
  readonly side: SideName;
  readonly options: BenchOptions;
}

/** Runner → side. */
export type RunnerMessage =
  | { readonly type: 'rep'; readonly index: number; readonly warm: boolean }
  | { readonly type: 'finish' };

/** Side → runner. Every request gets exactly one of ready / rep-done / summary / error. */
export type SideMessage =
  | { readonly type: 'pids'; readonly pids: readonly number[] }
  | { readonly type: 'ready' }
  | { readonly type: 'rep-done'; readonly figure: number }
  | { readonly type: 'summary'; readonly summary: SideSummary; readonly wallMs: number }
  | { readonly type: 'error'; readonly message: string };

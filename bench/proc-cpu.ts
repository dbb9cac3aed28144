/**
 * CPU time of a live process from /proc/<pid>/stat (utime + stime, every thread: the main
 * thread, libuv's pool, V8's GC threads), so a process can be measured from outside without its
 * cooperation. Linux only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime and stime (100 on every common Linux). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    let hz = 100;
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      if (Number.isInteger(n) && n > 0) hz = n;
    } catch {
      // getconf missing: keep the usual value
    }
    ticksPerSecond = hz;
  }
  return ticksPerSecond;
}

/** User and system CPU seconds the process has used so far; null when it is gone. */
export function procCpuTimes(pid: number): { user: number; sys: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { user: utime / clockTicksPerSecond(), sys: stime / clockTicksPerSecond() };
}

/** User + system CPU seconds the process has used so far; null when it is gone. */
export function procCpuSeconds(pid: number): number | null {
  const t = procCpuTimes(pid);
  return t === null ? null : t.user + t.sys;
}

/** The 1-minute load average of the machine (how busy the shared machine was). */
export function loadAverage1(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/** One process's CPU over a window, in % of one core: user + system, and the two apart. */
export interface CpuPercent {
  readonly total: number;
  readonly user: number;
  readonly sys: number;
}

/** CPU used by several processes over one window, as a percentage of one core each. */
export class CpuWindow {
  private readonly start = new Map<number, { user: number; sys: number }>();
  private readonly t0 = performance.now();

  constructor(private readonly pids: readonly number[]) {
    for (const pid of pids) {
      const s = procCpuTimes(pid);
      if (s !== null) this.start.set(pid, s);
    }
  }

  /** Per pid, since the window opened (NaN for a process that went away). */
  read(): { wallMs: number; percent: Map<number, CpuPercent> } {
    const wallMs = performance.now() - this.t0;
    const percent = new Map<number, CpuPercent>();
    const pct = (seconds: number): number => (seconds / (wallMs / 1000)) * 100;
    for (const pid of this.pids) {
      const a = this.start.get(pid);
      const b = procCpuTimes(pid);
      if (a === undefined || b === null) percent.set(pid, { total: Number.NaN, user: Number.NaN, sys: Number.NaN });
      else percent.set(pid, { total: pct(b.user - a.user + b.sys - a.sys), user: pct(b.user - a.user), sys: pct(b.sys - a.sys) });
    }
    return { wallMs, percent };
  }
}

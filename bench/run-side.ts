/**
 * Runs one side of one benchmark in a child process (bench/side.ts) under a hard time limit.
 * On timeout the child gets SIGTERM (it aborts and stops what it started), then SIGKILL, and so
 * do the processes it reported (worker nodes), by pid.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, type BenchOptions, type SideName, type SideResult } from './harness.js';
import type { SideMessage, SideRequest } from './side-protocol.js';

const SIDE_ENTRY = fileURLToPath(new URL('./side.ts', import.meta.url));
const KILL_GRACE_MS = 20_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function runSide(bench: string, side: SideName, options: BenchOptions, timeoutMs: number): Promise<SideResult> {
  const request: SideRequest = { bench, side, options };
  // execArgv carries `--import tsx` from `npm run bench` into the child.
  const child = fork(SIDE_ENTRY, [JSON.stringify(request)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reported = new Set<number>();
  let outcome: SideMessage | null = null;
  child.on('message', (raw) => {
    const msg = raw as SideMessage;
    if (msg.type === 'pids') for (const pid of msg.pids) reported.add(pid);
    else outcome = msg;
  });

  let timedOut = false;
  let killTimer: NodeJS.Timeout | null = null;
  const timer = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`[bench] ${bench}/${side}: over its ${Math.round(timeoutMs / 1000)} s limit, stopping it\n`);
    child.kill('SIGTERM');
    killTimer = setTimeout(() => {
      child.kill('SIGKILL');
    }, KILL_GRACE_MS);
  }, timeoutMs);

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  if (killTimer !== null) clearTimeout(killTimer);
  // Anything the side started and left behind (it was killed, or crashed) goes now, by pid.
  for (const pid of reported) {
    if (alive(pid)) {
      process.stderr.write(`[bench] ${bench}/${side}: killing leftover process ${pid}\n`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone in between
      }
    }
  }

  const result = outcome as SideMessage | null;
  if (result?.type === 'result') {
    return { ...result.measurement, side, median: median(result.measurement.reps), wallMs: result.wallMs };
  }
  const why = result?.type === 'error' ? result.message : `the child exited (code ${exit.code}, signal ${exit.signal}) without a result`;
  throw new Error(timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s: ${why}` : why);
}

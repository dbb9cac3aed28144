import { spawn, type ChildProcess } from 'node:child_process';
import { GRIDLINE_BIN } from '../../cli/worker-process.js';
import { TEST_ALLOW_DIRS_ENV } from './allowed-dirs.js';
import { TEST_ADMIN_KEY, TEST_COORDINATOR_SECRET } from './auth.js';

export interface TestProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `gridline <args>` as a real process, keeping its output for failure messages. */
export function gridline(args: readonly string[], env: NodeJS.ProcessEnv = {}): TestProcess {
  return startProcess(process.execPath, [GRIDLINE_BIN, ...args], env);
}

/** Any command as a real process (e.g. `ip netns exec NS node ...`), JSON logs, output kept. */
export function startProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): TestProcess {
  const child = spawn(command, args, {
    env: { ...process.env, GRIDLINE_LOG_FORMAT: 'json', GRIDLINE_LOG_LEVEL: 'info', GRIDLINE_ALLOW_DIRS: TEST_ALLOW_DIRS_ENV, GRIDLINE_ADMIN_KEY: TEST_ADMIN_KEY, GRIDLINE_API_KEY: TEST_ADMIN_KEY, GRIDLINE_COORDINATOR_SECRET: TEST_COORDINATOR_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.once('error', (err) => {
    out += `\n(spawn failed: ${err.message})\n`;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    output: () => out,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Polls `check` until it returns a value, or fails naming what it waited for. */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

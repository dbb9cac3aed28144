import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A long-running child process that dies with its parent and keeps the tail of what it printed. */
export interface ManagedChild {
  readonly pid: number;
  /** Settles once the child has exited, whatever the reason; never rejects. */
  readonly exited: Promise<ChildExit>;
  /** The exit, once it has happened. */
  exit(): ChildExit | undefined;
  /** The last few KiB the child wrote to stdout and stderr. */
  outputTail(): string;
  /** SIGTERM, then SIGKILL if it is still running after graceMs; resolves once it has exited. */
  stop(graceMs: number): Promise<ChildExit & { readonly forced: boolean }>;
}

export interface SpawnChildOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

const TAIL_CHARS = 4096;
const CLOSE_WAIT_MS = 200;

/** Starts `file args`; rejects if it cannot be started at all (missing, not executable). */
export function spawnManagedChild(file: string, args: readonly string[], options: SpawnChildOptions = {}): Promise<ManagedChild> {
  const child = spawn(file, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    // Piped, not inherited: the child must not write over the CLI's own output.
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      child.off('error', reject);
      resolve(manage(child));
    });
  });
}

function manage(child: ChildProcess): ManagedChild {
  const pid = child.pid ?? -1;
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
  };
  // Always drained, so a chatty child never blocks on a full pipe.
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  // process.on('exit') handlers must be synchronous: a signal is all we can send there.
  const killWithParent = (): void => {
    child.kill('SIGTERM');
  };
  process.on('exit', killWithParent);

  let exit: ChildExit | undefined;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killWithParent);
      // Let the pipes deliver the last words (the error that made it exit), but don't wait on a
      // grandchild that inherited them.
      const flushed = new Promise<void>((done) => setTimeout(done, CLOSE_WAIT_MS).unref());
      void Promise.race([closed, flushed]).then(() => {
        exit = { code, signal };
        resolve(exit);
      });
    });
    // Errors after spawn (a failed kill) must not crash the parent; the exit event still comes.
    child.on('error', () => undefined);
  });

  return {
    pid,
    exited,
    exit: () => exit,
    outputTail: () => tail,
    async stop(graceMs) {
      if (exit) return { ...exit, forced: false };
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        exited.then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!graceful) child.kill('SIGKILL');
      return { ...(await exited), forced: !graceful };
    },
  };
}

/**
 * The runner's handle on one side's child process (bench/side.ts): start it, ask it for
 * repetitions one at a time, get its summary, or kill it (SIGTERM, then SIGKILL, and the
 * processes it reported, worker nodes, by pid).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, SideName, SideSummary } from './harness.js';
import type { RunnerMessage, SideMessage, SideRequest } from './side-protocol.js';

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

type Answer = Exclude<SideMessage, { type: 'pids' } | { type: 'error' }>;

export class SideProcess {
  private readonly reported = new Set<number>();
  private pending: { resolve: (m: Answer) => void; reject: (e: Error) => void } | null = null;
  private readonly exited: Promise<void>;
  private exitedFlag = false;

  private constructor(readonly bench: string, readonly side: SideName, private readonly child: ChildProcess) {
    child.on('message', (raw) => this.onMessage(raw as SideMessage));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedFlag = true;
        this.killLeftovers();
        this.settle(new Error(`the ${side} process exited (code ${code}, signal ${signal}) without answering`));
        resolve();
      });
    });
  }

  /** Forks the side and waits until it is set up. */
  static async start(bench: string, side: SideName, options: BenchOptions): Promise<SideProcess> {
    const request: SideRequest = { bench, side, options };
    // execArgv carries `--import tsx` from `npm run bench` into the child.
    const child = fork(SIDE_ENTRY, [JSON.stringify(request)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const p = new SideProcess(bench, side, child);
    await p.ask(null);
    return p;
  }

  async rep(index: number, warm: boolean): Promise<number> {
    const answer = await this.ask({ type: 'rep', index, warm });
    if (answer.type !== 'rep-done') throw new Error(`${this.side}: unexpected answer ${answer.type}`);
    return answer.figure;
  }

  async finish(): Promise<{ summary: SideSummary; wallMs: number }> {
    const answer = await this.ask({ type: 'finish' });
    if (answer.type !== 'summary') throw new Error(`${this.side}: unexpected answer ${answer.type}`);
    await this.exited;
    return { summary: answer.summary, wallMs: answer.wallMs };
  }

  /** SIGTERM (the side cleans up), SIGKILL after a grace period; leftovers by pid. */
  async kill(): Promise<void> {
    if (this.exitedFlag) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private ask(message: RunnerMessage | null): Promise<Answer> {
    if (this.exitedFlag) return Promise.reject(new Error(`the ${this.side} process has exited`));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      if (message !== null) this.child.send(message);
    });
  }

  private onMessage(msg: SideMessage): void {
    if (msg.type === 'pids') {
      for (const pid of msg.pids) this.reported.add(pid);
    } else if (msg.type === 'error') {
      this.settle(new Error(msg.message));
    } else {
      const p = this.pending;
      this.pending = null;
      p?.resolve(msg);
    }
  }

  private settle(err: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(err);
  }

  private killLeftovers(): void {
    for (const pid of this.reported) {
      if (!alive(pid)) continue;
      process.stderr.write(`[bench] ${this.bench}/${this.side}: killing leftover process ${pid}\n`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone in between
      }
    }
  }
}

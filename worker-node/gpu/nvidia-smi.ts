import { execFile } from 'node:child_process';

/** What running nvidia-smi gave: its stdout, or one sentence saying why there is none. */
export type NvidiaSmiOutcome =
  | { readonly ok: true; readonly stdout: string }
  | { readonly ok: false; readonly reason: string };

/** The nvidia-smi process, behind an interface so probes can be tested without a GPU. */
export interface NvidiaSmi {
  run(args: readonly string[]): Promise<NvidiaSmiOutcome>;
}

export interface NvidiaSmiOptions {
  /** Path or bare name looked up on PATH; tests point it at a fake script. */
  readonly binary?: string;
  /** nvidia-smi can stall for seconds when the driver is wedged or persistence mode is off. */
  readonly timeoutMs?: number;
  /** Environment for the child, PATH lookup included; defaults to this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function createNvidiaSmi(options: NvidiaSmiOptions = {}): NvidiaSmi {
  const binary = options.binary ?? 'nvidia-smi';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = binary === 'nvidia-smi' ? 'nvidia-smi' : `nvidia-smi (${binary})`;
  return {
    run(args) {
      return new Promise((resolve) => {
        execFile(binary, args, { timeout: timeoutMs, windowsHide: true, env: options.env ?? process.env }, (err, stdout, stderr) => {
          if (!err) {
            resolve({ ok: true, stdout });
            return;
          }
          let reason: string;
          if (err.code === 'ENOENT') reason = `${where} not found`;
          else if (err.code === 'EACCES') reason = `${where} is not executable`;
          else if (err.killed) reason = `${where} did not answer within ${timeoutMs} ms`;
          else {
            // nvidia-smi prints its diagnosis ("couldn't communicate with the NVIDIA driver") on stdout, not stderr.
            const said = firstLine(stderr) || firstLine(stdout);
            const exit = typeof err.code === 'number' ? `exit ${err.code}` : (err.signal ?? 'failed');
            reason = `${where} failed (${exit})${said ? `: ${said}` : ''}`;
          }
          resolve({ ok: false, reason });
        });
      });
    },
  };
}

function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? '';
}

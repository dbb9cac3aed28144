import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The `gridline` entry script, for starting worker processes of our own. */
export const GRIDLINE_BIN = fileURLToPath(new URL('../bin/gridline.js', import.meta.url));

export interface WorkerProcessOptions {
  readonly coordinator: string;
  readonly joinToken: string;
  readonly nodeId: string;
  readonly gpus?: string;
  readonly labels?: readonly string[];
  readonly allowedDirs?: readonly string[];
  readonly opModuleDirs?: readonly string[];
  /** More `gridline worker` flags (TLS). */
  readonly extraArgs?: readonly string[];
  /** File that receives the worker's log; null to inherit the parent's stderr. */
  readonly logFile: string | null;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts `gridline worker` as a separate process: a worker that crashes (or is killed) takes only
 * itself down, as on a real fleet. The join token travels in the environment, not argv, so it does
 * not show up in `ps`.
 */
export function spawnWorkerProcess(options: WorkerProcessOptions): ChildProcess {
  const args = [GRIDLINE_BIN, 'worker', '--coordinator', options.coordinator, '--node-id', options.nodeId];
  if (options.gpus) args.push('--gpus', options.gpus);
  for (const label of options.labels ?? []) args.push('--label', label);
  // Relative folders mean the parent's working directory: the child starts in the same one.
  for (const dir of options.allowedDirs ?? []) args.push('--allow-dir', dir);
  for (const dir of options.opModuleDirs ?? []) args.push('--op-module-dir', dir);
  args.push(...(options.extraArgs ?? []));
  const fd = options.logFile === null ? null : openSync(options.logFile, 'a');
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', fd ?? 'inherit', fd ?? 'inherit'],
    env: { GRIDLINE_LOG_FORMAT: 'json', ...withoutApiKeys(process.env), ...options.env, GRIDLINE_JOIN_TOKEN: options.joinToken },
  });
  if (fd !== null) closeSync(fd);
  const kill = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  return child;
}

/** Waits for a child to exit, sending SIGKILL after graceMs. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A worker (and the op modules it runs) gets no API key or coordinator secret of ours: it needs only its join token. */
function withoutApiKeys(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { GRIDLINE_ADMIN_KEY: _admin, GRIDLINE_API_KEY: _api, GRIDLINE_API_KEY_FILE: _file, GRIDLINE_COORDINATOR_SECRET: _secret, ...rest } = env;
  return rest;
}

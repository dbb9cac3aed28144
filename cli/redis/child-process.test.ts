import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnManagedChild } from './child-process.js';

/** Alive and not a zombie: an orphan's zombie lingers where PID 1 does not reap (containers). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true; // no procfs: kill(0) is all we know
  }
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gridline-child-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('spawnManagedChild', () => {
  it('keeps the tail of stdout and stderr and reports the exit', async () => {
    const child = await spawnManagedChild('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(await child.exited).toEqual({ code: 3, signal: null });
    expect(child.exit()).toEqual({ code: 3, signal: null });
    expect(child.outputTail().split('\n').sort()).toEqual(['', 'err', 'out']);
  });

  it('rejects when the file cannot be run', async () => {
    await expect(spawnManagedChild(join(tmp, 'missing'), [])).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops with SIGTERM', async () => {
    const child = await spawnManagedChild('sleep', ['60']);
    expect(child.exit()).toBeUndefined();
    expect(await child.stop(5_000)).toEqual({ code: null, signal: 'SIGTERM', forced: false });
    expect(isAlive(child.pid)).toBe(false);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const child = await spawnManagedChild('/bin/sh', ['-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"]);
    while (!child.outputTail().includes('ready')) await sleep(10);
    expect(await child.stop(200)).toEqual({ code: null, signal: 'SIGKILL', forced: true });
  });

  it('is killed when its parent exits without stopping it', async () => {
    const childModule = fileURLToPath(new URL('./child-process.ts', import.meta.url));
    const script = `
      const { spawnManagedChild } = await import(${JSON.stringify(childModule)});
      const child = await spawnManagedChild('sleep', ['60']);
      console.log(child.pid);
      process.exit(0);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    for (let i = 0; i < 100 && isAlive(pid); i += 1) await sleep(50);
    expect(isAlive(pid)).toBe(false);
  });
});

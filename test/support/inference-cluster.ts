import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../common/ports.js';
import { TEST_ADMIN_KEY, authedFetch } from './auth.js';
import { addOneModel, writeModelRepository } from './onnx-model-builder.js';
import { gridline, waitFor, type TestProcess } from './processes.js';
import { REDIS_URL, testPrefix } from './redis-prefix.js';

/** The model every cluster serves: FP32 [N,4] -> [N,4], y = x + 1. */
export const ADD_ONE = 'add1';

/** A coordinator, one worker and a gateway, each its own process, on loopback ports. */
export interface InferenceCluster {
  readonly coordinator: { readonly process: TestProcess; readonly http: number; readonly grpc: number };
  readonly worker: { readonly process: TestProcess; readonly inference: number; readonly metrics: number };
  readonly gateway: { readonly process: TestProcess; readonly http: number; readonly grpc: number };
  /** What the worker's model server takes instead of a user key (the coordinator hands it to gateways). */
  readonly serviceToken: string;
  /** The last lines of every process's output, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

function listeningEvent<T>(what: string, p: TestProcess): Promise<T> {
  return waitFor(`the ${what} to listen`, () => {
    if (p.child.exitCode !== null) throw new Error(`the ${what} exited ${p.child.exitCode}:\n${p.output().slice(-3000)}`);
    const line = p.output().split('\n').find((l) => l.includes('"event":"listening"'));
    return line === undefined ? null : (JSON.parse(line) as T);
  }, 60_000);
}

/** Starts the three processes and waits until the gateway answers for ADD_ONE. */
export async function startInferenceCluster(name: string): Promise<InferenceCluster> {
  const t = testPrefix(name);
  const repo = await mkdtemp(join(tmpdir(), `gl-${name}-`));
  await writeModelRepository(repo, { [ADD_ONE]: addOneModel({ shape: ['N', 4] }) });
  const processes: TestProcess[] = [];
  const logs = (): string => processes.map((p, i) => `--- ${['coordinator', 'worker', 'gateway'][i]}\n${p.output().slice(-3000)}`).join('\n');
  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.kill();
    await t.cleanup();
    await rm(repo, { recursive: true, force: true });
  };
  try {
    const coordinator = gridline(['coordinator', '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--redis-url', REDIS_URL, '--key-prefix', t.prefix]);
    processes.push(coordinator);
    const c = await listeningEvent<{ http: number; grpc: number; joinToken: string }>('coordinator', coordinator);
    const [inference, metrics] = [await freePort(), await freePort()];
    const worker = gridline([
      'worker', '--coordinator', `127.0.0.1:${c.grpc}`, '--node-id', `${name}-1`, '--gpus', 'none', '--model-repository', repo,
      '--inference-port', String(inference), '--metrics-port', String(metrics), '--model-threads', '1',
    ], { GRIDLINE_JOIN_TOKEN: c.joinToken });
    processes.push(worker);
    const gateway = gridline(['gateway', '--coordinator-url', `http://127.0.0.1:${c.http}`, '--http-port', '0', '--grpc-port', '0']);
    processes.push(gateway);
    const g = await listeningEvent<{ http: number; grpc: number }>('gateway', gateway);
    await waitFor(`${ADD_ONE} to be ready through the gateway`, async () => {
      const res = await authedFetch(`http://127.0.0.1:${g.http}/v2/models/${ADD_ONE}/ready`).catch(() => null);
      return res?.status === 200;
    }, 90_000, 250);
    return {
      serviceToken: await serviceToken(c.http),
      coordinator: { process: coordinator, http: c.http, grpc: c.grpc },
      worker: { process: worker, inference, metrics },
      gateway: { process: gateway, http: g.http, grpc: g.grpc },
      logs,
      stop,
    };
  } catch (err) {
    const message = `${(err as Error).message}\n${logs()}`;
    await stop();
    throw new Error(message);
  }
}

/** The service token from the first line of the routes watch (the key table, sent to gateway-scoped callers). */
async function serviceToken(httpPort: number): Promise<string> {
  const controller = new AbortController();
  try {
    const res = await authedFetch(`http://127.0.0.1:${httpPort}/v1/routes/watch`, { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
    const first = JSON.parse(text.slice(0, text.indexOf('\n'))) as { type?: string; serviceToken?: string };
    return first.serviceToken ?? TEST_ADMIN_KEY;
  } finally {
    controller.abort();
  }
}

/** Resident set size of a process in bytes, from /proc (Linux), or null once it is gone. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/** Whether a process is still running. */
export function alive(p: TestProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { freePort } from '../common/ports.js';
import type { NodeRecord } from '../common/run-types.js';
import {
  expectRunExactlyOnce, explain, faultPipeline, faultRepeats, faultSeed, makeImages, ProcessGroup,
  reportPass, seededRandom, startWorker, submitPipeline, summarize, Timeline, tryGetRun, waitForRun,
} from './support/fault-harness.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { authedFetch } from './support/auth.js';

const HEARTBEAT_MS = 500;
const ITEMS = 400;
const WORKERS = ['w1', 'w2'];
const REPEATS = faultRepeats();
const SEED = faultSeed();
const RUN_DEADLINE_MS = 90_000;

interface Listening {
  readonly http: number;
  readonly grpc: number;
  readonly joinToken: string;
}

/** `gridline coordinator` on fixed ports (so workers find the restarted one where they left it). */
function coordinatorProcess(prefix: string, httpPort: number, grpcPort: number): TestProcess {
  return gridline([
    'coordinator', '--host', '127.0.0.1', '--http-port', String(httpPort), '--grpc-port', String(grpcPort),
    '--redis-url', REDIS_URL, '--key-prefix', prefix, '--heartbeat-ms', String(HEARTBEAT_MS),
  ]);
}

function listening(p: TestProcess): Promise<Listening> {
  return waitFor('the coordinator to listen', () => {
    if (p.child.exitCode !== null) throw new Error(`the coordinator exited ${p.child.exitCode}:\n${p.output().slice(-3000)}`);
    const line = p.output().split('\n').find((l) => l.includes('"event":"listening"'));
    return line === undefined ? null : (JSON.parse(line) as Listening);
  }, 60_000);
}

/**
 * SIGKILL the coordinator process at a random point of a run (seeded: GRIDLINE_FAULT_SEED
 * replays it; the first time right after the submit, before anything was placed) and start it again
 * on the same ports and key prefix after a random pause. The workers keep draining, reconnect
 * with their credentials, and the run completes with every input in the sink exactly once.
 */
describe('fault: the coordinator SIGKILLed mid-run and restarted', () => {
  console.log(`fault-coordinator-restart: seed ${SEED} (GRIDLINE_FAULT_SEED=${SEED} replays it), ${REPEATS} repetitions`);
  const random = seededRandom(SEED);
  // The first repetition kills at once after the submit (the run not yet placed or started);
  // the others once a random share of the items went through the first stage.
  const plans: Plan[] = Array.from({ length: REPEATS }, (_, rep) => ({
    atShare: rep === 0 ? 0 : 0.05 + random() * 0.65,
    downMs: Math.round(random() * 3_000),
  }));

  interface Plan {
    /** 'pending': killed while the run waits for nodes (workers start after the restart); 0: right after the submit. */
    readonly atShare: number | 'pending';
    readonly downMs: number;
  }

  async function repetition(plan: Plan, title: string): Promise<void> {
    const timeline = new Timeline(`fault-coordinator-restart seed ${SEED} ${title}: ${JSON.stringify(plan)}`);
    const t = testPrefix('fault-crestart');
    const { dir, keys } = await makeImages(ITEMS, 'crestart');
    const processes = new ProcessGroup();
    const d = { timeline, processes, redisUrl: REDIS_URL, keyPrefix: t.prefix };
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const url = (): string => `http://127.0.0.1:${httpPort}`;
    const nodesReady = async (): Promise<boolean> => {
      const res = await authedFetch(`${url()}/v1/nodes`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
      if (res?.status !== 200) return false;
      const { nodes } = (await res.json()) as { nodes: NodeRecord[] };
      return WORKERS.every((id) => nodes.find((n) => n.id === id)?.state === 'ready');
    };
    const startWorkers = async (joinToken: string): Promise<void> => {
      for (const id of WORKERS) processes.add(id, startWorker(`127.0.0.1:${grpcPort}`, id, joinToken));
      await waitFor('both workers ready', nodesReady, 60_000).catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await explain(d, null)}`);
      });
      timeline.note('workers ready');
    };
    try {
      const first = await listening(processes.add('coordinator', coordinatorProcess(t.prefix, httpPort, grpcPort)));
      if (plan.atShare !== 'pending') await startWorkers(first.joinToken);

      const sink = join(dir, 'out', 'items.jsonl');
      const runId = await submitPipeline(url(), faultPipeline({ name: 'fault-crestart', source: join(dir, 'in'), sink }));
      timeline.note(`submitted ${runId}`);
      const share = plan.atShare;
      const atKill = typeof share === 'number' && share > 0
        ? await waitForRun(url, runId, `${Math.round(share * ITEMS)} items through shrink`,
          (v) => (v.counters.shrink?.completed ?? 0) >= share * ITEMS, 60_000, d)
        : await tryGetRun(url(), runId);
      if (share === 'pending') expect(atKill?.status, summarize(atKill)).toBe('pending');
      processes.get('coordinator').child.kill('SIGKILL');
      await processes.get('coordinator').exited;
      timeline.note(`SIGKILL coordinator; run then: ${summarize(atKill)}`);
      await sleep(plan.downMs);
      const second = await listening(processes.add('coordinator', coordinatorProcess(t.prefix, httpPort, grpcPort)));
      // The first coordinator's join token is still valid (stored in Redis with its expiry).
      timeline.note(`coordinator restarted; run now: ${summarize(await tryGetRun(url(), runId))}`);
      if (share === 'pending') await startWorkers(second.joinToken);

      const view = await expectRunExactlyOnce(url, runId, { sink, keys, deadlineMs: RUN_DEADLINE_MS, d });
      // The workers came back to the new process with their credentials: no node was forgotten.
      await waitFor('both workers ready on the restarted coordinator', nodesReady, 30_000).catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await explain(d, view)}`);
      });
      for (const id of WORKERS) expect(processes.get(id).output(), id).not.toMatch(/registering again/);
      timeline.note('workers ready on the restarted coordinator');
      await reportPass(d, view);
    } finally {
      await processes.killAll('SIGKILL');
      await t.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }

  plans.forEach((plan, rep) => {
    const when = typeof plan.atShare === 'number' && plan.atShare > 0 ? `at ${(plan.atShare * 100).toFixed(0)}%` : 'right after the submit';
    it(`repetition ${rep + 1}/${REPEATS}: kill ${when}, restart after ${plan.downMs} ms`, () => repetition(plan, `repetition ${rep + 1}`), RUN_DEADLINE_MS + 120_000);
  });

  it('a run still waiting for nodes survives the restart: it is placed once workers join the new process', () =>
    repetition({ atShare: 'pending', downMs: 500 }, 'pending run'), RUN_DEADLINE_MS + 120_000);
});

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { createLogger } from '../cli/create-logger.js';
import { startCoordinator } from '../coordinator/coordinator.js';
import {
  expectRunExactlyOnce, explain, faultPipeline, faultRepeats, faultSeed, makeImages, ProcessGroup,
  reportPass, seededRandom, startWorker, submitPipeline, summarize, Timeline, waitForRun,
} from './support/fault-harness.js';
import { waitFor } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { TEST_ADMIN_KEY } from './support/auth.js';

const HEARTBEAT_MS = 500;
const ITEMS = 400;
const WORKERS = ['w1', 'w2', 'w3'];
const REPEATS = faultRepeats();
const SEED = faultSeed();
// A killed worker's chunks come back once their BullMQ lock runs out and a stall check on another
// worker sees it (STALL_LOCK_MS, STALL_CHECK_MS in services/queue/stage-queues.ts): ~20 s here.
const RUN_DEADLINE_MS = 120_000;

/**
 * SIGKILL one of three worker processes at a random point of a run (seeded; the seed is printed,
 * GRIDLINE_FAULT_SEED=<seed> replays it), with or without a replacement worker: the run succeeds
 * and the sink holds every input exactly once.
 */
describe('fault: a worker SIGKILLed mid-run', () => {
  console.log(`fault-worker-kill: seed ${SEED} (GRIDLINE_FAULT_SEED=${SEED} replays it), ${REPEATS} repetitions`);
  const random = seededRandom(SEED);
  const plans = Array.from({ length: REPEATS }, () => ({
    victim: WORKERS[Math.floor(random() * WORKERS.length)]!,
    /** Kill once this share of the items went through the first stage. */
    atShare: 0.05 + random() * 0.6,
    replacement: random() < 0.5,
  }));

  plans.forEach((plan, rep) => {
    it(`repetition ${rep + 1}/${REPEATS}: kill ${plan.victim} at ${(plan.atShare * 100).toFixed(0)}% ${plan.replacement ? 'and start a replacement' : 'without a replacement'}`, async () => {
      const timeline = new Timeline(`fault-worker-kill seed ${SEED} repetition ${rep + 1}: ${JSON.stringify(plan)}`);
      const t = testPrefix(`fault-wkill-${rep}`);
      const { dir, keys } = await makeImages(ITEMS, 'wkill');
      const processes = new ProcessGroup();
      const coordinator = await startCoordinator(
        { adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, heartbeatIntervalMs: HEARTBEAT_MS },
        createLogger({ name: 'coordinator', level: 'warn', format: 'json' }),
      );
      const d = { timeline, processes, redisUrl: REDIS_URL, keyPrefix: t.prefix };
      try {
        for (const id of WORKERS) processes.add(id, startWorker(coordinator.grpcAddress, id, coordinator.joinToken));
        await waitFor('three ready workers', () => WORKERS.every((id) => coordinator.registry.get(id)?.state === 'ready'), 60_000)
          .catch(async (err: Error) => {
            throw new Error(`${err.message}\n${await explain(d, null)}`);
          });
        timeline.note('workers ready');

        const sink = join(dir, 'out', 'items.jsonl');
        const runId = await submitPipeline(coordinator.httpUrl, faultPipeline({ name: 'fault-wkill', source: join(dir, 'in'), sink }));
        timeline.note(`submitted ${runId}`);
        const url = (): string => coordinator.httpUrl;
        const atKill = await waitForRun(url, runId, `${Math.round(plan.atShare * ITEMS)} items through shrink`,
          (v) => (v.counters.shrink?.completed ?? 0) >= plan.atShare * ITEMS, 60_000, d);
        const held = atKill.replicas.filter((r) => r.nodeId === plan.victim).map((r) => r.stage);
        const lost = new Promise<void>((resolve) => {
          const onLost = (node: { id: string }): void => {
            if (node.id !== plan.victim) return;
            coordinator.registry.off('lost', onLost);
            resolve();
          };
          coordinator.registry.on('lost', onLost);
        });
        processes.get(plan.victim).child.kill('SIGKILL');
        timeline.note(`SIGKILL ${plan.victim} (running ${held.join(', ') || 'no replica'}); run then: ${summarize(atKill)}`);
        if (plan.replacement) {
          processes.add(`${plan.victim}-new`, startWorker(coordinator.grpcAddress, `${plan.victim}-new`, coordinator.joinToken));
          timeline.note(`started ${plan.victim}-new`);
        }
        await lost;
        timeline.note(`${plan.victim} marked lost`);

        const view = await expectRunExactlyOnce(url, runId, { sink, keys, deadlineMs: RUN_DEADLINE_MS, d });
        await reportPass(d, view);
      } finally {
        await processes.killAll('SIGKILL');
        await coordinator.stop();
        await t.cleanup();
        await rm(dir, { recursive: true, force: true });
      }
    }, RUN_DEADLINE_MS + 90_000);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../cli/create-logger.js';
import { freePort } from '../common/ports.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import {
  expectRunExactlyOnce, explain, faultPipeline, faultRepeats, faultSeed, makeImages, ProcessGroup,
  seededRandom, reportPass, startRedisServer, startWorker, submitPipeline, summarize, Timeline, tryGetRun,
  waitForRun, type RedisServer,
} from './support/fault-harness.js';
import { waitFor } from './support/processes.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { TEST_ADMIN_KEY } from './support/auth.js';

const HEARTBEAT_MS = 500;
const ITEMS = 400;
const WORKERS = ['w1', 'w2'];
const REPEATS = faultRepeats();
const SEED = faultSeed();
const RUN_DEADLINE_MS = 90_000;

function redisServerVersion(): string | null {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const VERSION = redisServerVersion();
if (VERSION === null) console.log('fault-redis-restart: skipped: redis-server is not installed (apt-get install redis-server)');

/**
 * A private redis-server with append-only persistence (fsync on every write) holds the cluster's
 * state and queues. At a random point of a run (seeded: GRIDLINE_FAULT_SEED replays it) it is
 * stopped (SIGTERM or SIGKILL) and started again on the same port and dir after a random pause.
 * The coordinator and the workers reconnect without being restarted, and the run completes with
 * every input in the sink exactly once.
 */
describe.skipIf(VERSION === null)('fault: Redis (append-only) restarted mid-run', () => {
  console.log(`fault-redis-restart: ${VERSION}; seed ${SEED} (GRIDLINE_FAULT_SEED=${SEED} replays it), ${REPEATS} repetitions`);
  const random = seededRandom(SEED);
  const plans = Array.from({ length: REPEATS }, () => ({
    atShare: 0.05 + random() * 0.65,
    signal: (random() < 0.5 ? 'SIGTERM' : 'SIGKILL') as NodeJS.Signals,
    downMs: Math.round(random() * 2_000),
  }));

  plans.forEach((plan, rep) => {
    it(`repetition ${rep + 1}/${REPEATS}: ${plan.signal} at ${(plan.atShare * 100).toFixed(0)}%, back after ${plan.downMs} ms`, async () => {
      const timeline = new Timeline(`fault-redis-restart seed ${SEED} repetition ${rep + 1}: ${JSON.stringify(plan)}`);
      const { dir, keys } = await makeImages(ITEMS, 'rrestart');
      const processes = new ProcessGroup();
      let redis: RedisServer | null = null;
      let coordinator: RunningCoordinator | null = null;
      try {
        const data = join(dir, 'redis');
        await mkdir(data);
        redis = await startRedisServer({ port: await freePort(), dir: data });
        processes.add('redis-server', redis.process);
        const redisUrl = redis.url;
        const d = { timeline, processes, redisUrl, keyPrefix: 'gridline' };
        coordinator = await startCoordinator(
          { adminKey: TEST_ADMIN_KEY, redisUrl, keyPrefix: 'gridline', httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, heartbeatIntervalMs: HEARTBEAT_MS },
          createLogger({ name: 'coordinator', level: 'warn', format: 'json' }),
        );
        const c = coordinator;
        for (const id of WORKERS) processes.add(id, startWorker(c.grpcAddress, id, c.joinToken));
        await waitFor('both workers ready', () => WORKERS.every((id) => c.registry.get(id)?.state === 'ready'), 60_000)
          .catch(async (err: Error) => {
            throw new Error(`${err.message}\n${await explain(d, null)}`);
          });
        timeline.note(`workers ready; redis at ${redisUrl}`);

        const sink = join(dir, 'out', 'items.jsonl');
        const runId = await submitPipeline(c.httpUrl, faultPipeline({ name: 'fault-rrestart', source: join(dir, 'in'), sink }));
        timeline.note(`submitted ${runId}`);
        const url = (): string => c.httpUrl;
        const atKill = await waitForRun(url, runId, `${Math.round(plan.atShare * ITEMS)} items through shrink`,
          (v) => (v.counters.shrink?.completed ?? 0) >= plan.atShare * ITEMS, 60_000, d);
        await redis.kill(plan.signal);
        timeline.note(`${plan.signal} redis-server (${redis.process.child.signalCode ?? redis.process.child.exitCode}); run then: ${summarize(atKill)}`);
        await sleep(plan.downMs);
        await redis.restart();
        processes.add('redis-server', redis.process);
        timeline.note('redis-server answers PING again');

        const view = await expectRunExactlyOnce(url, runId, { sink, keys, deadlineMs: RUN_DEADLINE_MS, d });
        // Nobody was restarted: the same worker processes are still ready on the same coordinator.
        for (const id of WORKERS) expect(processes.get(id).child.exitCode, id).toBeNull();
        await waitFor('both workers ready after the Redis restart', () => WORKERS.every((id) => c.registry.get(id)?.state === 'ready'), 30_000);
        await reportPass(d, view);
      } finally {
        // Redis last: the coordinator's stop still talks to it.
        await processes.killAll('SIGKILL', ['redis-server']);
        await coordinator?.stop();
        await redis?.kill('SIGKILL');
        await rm(dir, { recursive: true, force: true });
      }
    }, RUN_DEADLINE_MS + 120_000);
  });

  it('the coordinator stops while Redis is down, with a run in progress (nothing waits on Redis forever)', async () => {
    const { dir } = await makeImages(2_000, 'rdown');
    const processes = new ProcessGroup();
    let redis: RedisServer | null = null;
    let coordinator: RunningCoordinator | null = null;
    try {
      await mkdir(join(dir, 'redis'));
      redis = await startRedisServer({ port: await freePort(), dir: join(dir, 'redis') });
      coordinator = await startCoordinator(
        { adminKey: TEST_ADMIN_KEY, redisUrl: redis.url, keyPrefix: 'gridline', httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, heartbeatIntervalMs: HEARTBEAT_MS },
        createLogger({ name: 'coordinator', level: 'error', format: 'json' }),
      );
      const c = coordinator;
      processes.add('w1', startWorker(c.grpcAddress, 'w1', c.joinToken));
      await waitFor('the worker ready', () => c.registry.get('w1')?.state === 'ready', 60_000);
      const runId = await submitPipeline(c.httpUrl, faultPipeline({ name: 'fault-rdown', source: join(dir, 'in'), sink: join(dir, 'out.jsonl') }));
      await waitFor('the run running', async () => (await tryGetRun(c.httpUrl, runId))?.status === 'running', 30_000);
      await processes.killAll('SIGKILL');
      await redis.kill('SIGKILL');
      // Reconcile passes now wait on Redis; stop() must not wait with them.
      await sleep(4 * HEARTBEAT_MS);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([c.stop(), new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('coordinator.stop() did not return within 30 s while Redis was down')), 30_000);
      })]).finally(() => clearTimeout(timer));
      coordinator = null;
    } finally {
      await processes.killAll('SIGKILL');
      await redis?.kill('SIGKILL');
      // A coordinator that hangs in stop() is left to the process exit.
      void coordinator?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

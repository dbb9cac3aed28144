import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../cli/create-logger.js';
import { GRIDLINE_BIN } from '../cli/worker-process.js';
import { freePort } from '../common/ports.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import {
  expectRunExactlyOnce, explain, faultPipeline, faultRepeats, faultSeed, makeImages, ProcessGroup,
  reportPass, seededRandom, startRedisServer, startWorker, submitPipeline, summarize, Timeline,
  waitForRun, type RedisServer,
} from './support/fault-harness.js';
import { startProcess, waitFor } from './support/processes.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { TEST_ADMIN_KEY } from './support/auth.js';

const HEARTBEAT_MS = 500;
/** A cut node is lost within 3 heartbeat intervals of its last heartbeat; the rest is slack for a loaded machine. */
const LOST_DEADLINE_MS = 3 * HEARTBEAT_MS + 2_000;
const ITEMS = 400;
const REPEATS = faultRepeats(3);
const SEED = faultSeed();
// The cut node's chunks come back once their BullMQ lock runs out and a stall check on the other
// worker sees it (STALL_LOCK_MS, STALL_CHECK_MS in services/queue/stage-queues.ts): ~20 s here.
const RUN_DEADLINE_MS = 120_000;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why network namespaces cannot be used here, or null when they can (a probe namespace is created and deleted). */
function namespacesUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces are Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (CI runs as root)';
  const probe = `glprobe${randomBytes(3).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    return e.code === 'ENOENT' ? 'the `ip` command (iproute2) is not installed' : `\`ip netns add\` failed: ${(e.stderr ?? e.message).trim()}`;
  }
  try {
    ip('netns', 'del', probe);
  } catch {
    // best effort
  }
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'redis-server is not installed (the test runs one bound to the host end of the veth)';
  }
  return null;
}

/**
 * A separate "host": a network namespace joined to this one by a veth pair (/30 subnet).
 * `cut()` takes the namespace end down, as if the machine's cable were pulled.
 */
interface Host {
  readonly ns: string;
  readonly hostIp: string;
  readonly nsIp: string;
  cut(): void;
  remove(): void;
}

function createHost(): Host {
  const id = randomBytes(3).toString('hex');
  const ns = `glfault${id}`;
  const hostEnd = `glh${id}`;
  const nsEnd = `gln${id}`;
  const subnet = `10.${200 + (parseInt(id.slice(0, 2), 16) % 50)}.${parseInt(id.slice(2, 4), 16)}`;
  const block = (parseInt(id.slice(4, 6), 16) % 64) * 4;
  const hostIp = `${subnet}.${block + 1}`;
  const nsIp = `${subnet}.${block + 2}`;
  const remove = (): void => {
    for (const args of [['netns', 'del', ns], ['link', 'del', hostEnd]]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
    ip('link', 'set', nsEnd, 'netns', ns);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostEnd);
    ip('link', 'set', hostEnd, 'up');
    ip('-n', ns, 'addr', 'add', `${nsIp}/30`, 'dev', nsEnd);
    ip('-n', ns, 'link', 'set', nsEnd, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (err) {
    remove();
    throw err;
  }
  return { ns, hostIp, nsIp, cut: () => ip('-n', ns, 'link', 'set', nsEnd, 'down'), remove };
}

const UNAVAILABLE = namespacesUnavailable();
if (UNAVAILABLE !== null) console.log(`fault-network-cut: skipped: ${UNAVAILABLE}`);

/**
 * One worker runs in a network namespace of its own (its own "host"), reaching the coordinator
 * and a private Redis over a veth pair; another runs on this host. At a random point of a run
 * (seeded: GRIDLINE_FAULT_SEED replays it) the namespace's link goes down: the coordinator marks
 * the node lost within three heartbeat intervals (plus slack), its replicas move to the other
 * worker, and the run completes with every input in the sink exactly once.
 */
describe.skipIf(UNAVAILABLE !== null)(`fault: a worker's network cut mid-run${UNAVAILABLE ? ` (skipped: ${UNAVAILABLE})` : ''}`, () => {
  console.log(`fault-network-cut: seed ${SEED} (GRIDLINE_FAULT_SEED=${SEED} replays it), ${REPEATS} repetitions`);
  const random = seededRandom(SEED);
  // Placement breaks ties by node id: which worker sorts first decides where the source and the
  // sink land, so both layouts (the sink on the cut node or not) are drawn.
  const plans = Array.from({ length: REPEATS }, () => {
    const atShare = 0.05 + random() * 0.6;
    const remoteFirst = random() < 0.5;
    return { atShare, remote: remoteFirst ? 'a-remote' : 'b-remote', local: remoteFirst ? 'b-local' : 'a-local' };
  });

  plans.forEach((plan, rep) => {
    it(`repetition ${rep + 1}/${REPEATS}: cut ${plan.remote}'s link at ${(plan.atShare * 100).toFixed(0)}%`, async () => {
      const timeline = new Timeline(`fault-network-cut seed ${SEED} repetition ${rep + 1}: ${JSON.stringify(plan)}`);
      const { dir, keys } = await makeImages(ITEMS, 'netcut');
      const processes = new ProcessGroup();
      let host: Host | null = null;
      let redis: RedisServer | null = null;
      let coordinator: RunningCoordinator | null = null;
      try {
        host = createHost();
        const h = host;
        timeline.note(`namespace ${h.ns}: ${h.nsIp} <-> ${h.hostIp} (this host)`);
        const data = join(dir, 'redis');
        await mkdir(data);
        // Bound to the host end of the veth (and loopback for the diagnostics).
        redis = await startRedisServer({ port: await freePort(), dir: data, bind: [h.hostIp, '127.0.0.1'], appendOnly: false });
        processes.add('redis-server', redis.process);
        const d = { timeline, processes, redisUrl: redis.url, keyPrefix: 'gridline' };
        coordinator = await startCoordinator(
          { adminKey: TEST_ADMIN_KEY, host: h.hostIp, redisUrl: redis.url, keyPrefix: 'gridline', httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, heartbeatIntervalMs: HEARTBEAT_MS },
          createLogger({ name: 'coordinator', level: 'warn', format: 'json' }),
        );
        const c = coordinator;
        const { local, remote } = plan;
        processes.add(local, startWorker(c.grpcAddress, local, c.joinToken));
        processes.add(remote, startProcess('ip', [
          'netns', 'exec', h.ns, process.execPath, GRIDLINE_BIN, 'worker', '--coordinator', c.grpcAddress, '--node-id', remote, '--gpus', 'none',
        ], { GRIDLINE_JOIN_TOKEN: c.joinToken }));
        await waitFor('both workers ready', () => [local, remote].every((id) => c.registry.get(id)?.state === 'ready'), 60_000)
          .catch(async (err: Error) => {
            throw new Error(`${err.message}\n${await explain(d, null)}`);
          });
        timeline.note('workers ready');

        const sink = join(dir, 'out', 'items.jsonl');
        const runId = await submitPipeline(c.httpUrl, faultPipeline({ name: 'fault-netcut', source: join(dir, 'in'), sink }));
        timeline.note(`submitted ${runId}`);
        const url = (): string => c.httpUrl;
        const atCut = await waitForRun(url, runId, `${Math.round(plan.atShare * ITEMS)} items through shrink`,
          (v) => (v.counters.shrink?.completed ?? 0) >= plan.atShare * ITEMS, 60_000, d);
        const held = atCut.replicas.filter((r) => r.nodeId === remote).map((r) => r.stage);
        const lost = new Promise<number>((resolve) => {
          const onLost = (node: { id: string }, silentMs: number): void => {
            if (node.id !== remote) return;
            c.registry.off('lost', onLost);
            resolve(silentMs);
          };
          c.registry.on('lost', onLost);
        });
        h.cut();
        const cutAt = Date.now();
        timeline.note(`link of ${h.ns} down (${remote} ran ${held.join(', ') || 'no replica'}); run then: ${summarize(atCut)}`);

        let timer: NodeJS.Timeout | undefined;
        const silentMs = await Promise.race([lost, new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the cut node was not marked lost within ${LOST_DEADLINE_MS} ms (3 heartbeat intervals + slack)`)), LOST_DEADLINE_MS);
        })]).catch(async (err: Error) => {
          throw new Error(`${err.message}\n${await explain(d, null)}`);
        }).finally(() => clearTimeout(timer));
        timeline.note(`${remote} marked lost ${Date.now() - cutAt} ms after the cut (${silentMs} ms after its last heartbeat)`);
        expect(c.registry.get(remote)?.state).toBe('lost');

        // Its replicas move to the worker still connected.
        await waitForRun(url, runId, `every replica placed on ${local}`,
          (v) => v.replicas.length > 0 && v.replicas.every((r) => r.nodeId === local), 30_000, d);
        timeline.note(`every replica on ${local}`);

        const view = await expectRunExactlyOnce(url, runId, { sink, keys, deadlineMs: RUN_DEADLINE_MS, d });
        await reportPass(d, view);
      } finally {
        await processes.killAll('SIGKILL', ['redis-server']);
        await coordinator?.stop();
        await redis?.kill('SIGKILL');
        host?.remove();
        await rm(dir, { recursive: true, force: true });
      }
    }, RUN_DEADLINE_MS + 120_000);
  });
});

/**
 * Child-process entry: sets up one side of one benchmark (argv[2] is a SideRequest as JSON),
 * then runs the repetitions bench/run.ts asks for, one at a time, and finally sends its summary.
 * SIGTERM, or losing the runner, aborts the side, which stops whatever it started.
 */
import { BENCHES } from './benches.js';
import type { SideContext, SideSession } from './harness.js';
import type { RunnerMessage, SideMessage, SideRequest } from './side-protocol.js';

const started = performance.now();

function send(message: SideMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) {
      resolve();
      return;
    }
    process.send(message, () => resolve());
  });
}

const request = JSON.parse(process.argv[2] ?? '{}') as SideRequest;
const log = (message: string): void => {
  process.stderr.write(`[bench] ${request.bench}/${request.side}: ${message}\n`);
};
let session: SideSession | null = null;

/** Stops what the side started, then exits (a library may leave a handle open). */
async function exit(code: number): Promise<never> {
  // A cleanup that hangs must not keep the process alive.
  setTimeout(() => process.exit(code), 15_000).unref();
  await session?.close().catch((err: unknown) => log(`cleanup failed: ${(err as Error).message}`));
  process.exit(code);
}

async function fail(err: unknown): Promise<never> {
  const message = err instanceof Error ? err.message : String(err);
  log(`failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
  await send({ type: 'error', message });
  return exit(1);
}

const controller = new AbortController();
const abort = (why: string) => () => {
  // Handlers stay installed: a second signal must not kill the process halfway through cleanup.
  if (controller.signal.aborted) return;
  controller.abort(new Error(why));
  log(why);
  void exit(1);
};
process.on('SIGTERM', abort('stopped by the bench runner (time limit)'));
process.on('SIGINT', abort('interrupted'));
process.on('disconnect', abort('the bench runner went away'));

const ctx: SideContext = {
  options: request.options,
  signal: controller.signal,
  reportPids: (pids) => void send({ type: 'pids', pids }),
  log,
};

try {
  const bench = await BENCHES.find((b) => b.name === request.bench)?.load();
  const fn = bench?.sides[request.side];
  if (fn === undefined) throw new Error(`no side ${request.side} in bench ${request.bench}`);
  session = await fn(ctx);
} catch (err) {
  await fail(err);
}
const live = session!;

// Requests are handled one at a time, in order.
let queue = Promise.resolve();
process.on('message', (raw) => {
  const msg = raw as RunnerMessage;
  queue = queue.then(async () => {
    try {
      if (msg.type === 'rep') {
        await send({ type: 'rep-done', figure: await live.rep(msg.index, msg.warm) });
      } else {
        const summary = await live.finish();
        await send({ type: 'summary', summary, wallMs: performance.now() - started });
        await exit(0);
      }
    } catch (err) {
      await fail(err);
    }
  });
});
await send({ type: 'ready' });

/**
 * Child-process entry: runs one side of one benchmark (argv[2] is a SideRequest as JSON) and
 * sends its measurement to bench/run.ts. SIGTERM, or losing the parent, aborts the side, which
 * then stops whatever it started.
 */
import { BENCHES } from './benches.js';
import type { SideContext } from './harness.js';
import type { SideMessage, SideRequest } from './side-protocol.js';

function send(message: SideMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      process.stdout.write(`${JSON.stringify(message)}\n`);
      resolve();
      return;
    }
    process.send(message, () => resolve());
  });
}

async function main(): Promise<number> {
  const request = JSON.parse(process.argv[2] ?? '{}') as SideRequest;
  const controller = new AbortController();
  const abort = (why: string) => () => controller.abort(new Error(why));
  process.once('SIGTERM', abort('stopped by the bench runner (time limit)'));
  process.once('SIGINT', abort('interrupted'));
  process.once('disconnect', abort('the bench runner went away'));

  const bench = BENCHES.find((b) => b.name === request.bench);
  const fn = bench?.sides[request.side];
  if (fn === undefined) {
    await send({ type: 'error', message: `no side ${request.side} in bench ${request.bench}` });
    return 1;
  }
  const ctx: SideContext = {
    options: request.options,
    signal: controller.signal,
    reportPids: (pids) => void send({ type: 'pids', pids }),
    log: (message) => process.stderr.write(`[bench] ${request.bench}/${request.side}: ${message}\n`),
  };
  const started = performance.now();
  try {
    const measurement = await fn(ctx);
    await send({ type: 'result', measurement, wallMs: performance.now() - started });
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.log(`failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
    await send({ type: 'error', message });
    return 1;
  }
}

// Exit explicitly: a side stops what it started, but a library may leave a handle open.
process.exit(await main());

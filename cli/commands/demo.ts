import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../common/logger.js';
import { CoordinatorClient } from '../coordinator-client.js';
import { startLocalCluster, waitForNodes } from '../local-cluster.js';
import { submitCommand } from './submit.js';

export const EXAMPLE_PIPELINE = fileURLToPath(new URL('../../pipelines/ocr.yaml', import.meta.url));

/**
 * `npm start`: a local cluster (Redis, coordinator, one worker), the example OCR pipeline on the
 * bundled image, the recognized lines printed, then everything stopped again.
 */
export async function demoCommand(options: { dataDir: string; redisUrl: string | null; host: string }, logger: Logger): Promise<number> {
  process.stdout.write('starting a local cluster (Redis, coordinator, 1 worker)...\n');
  // The example reads and writes beside itself, wherever the demo is started from.
  const cluster = await startLocalCluster({ workers: 1, httpPort: 0, grpcPort: 0, host: options.host, redisUrl: options.redisUrl, dataDir: options.dataDir, allowedDirs: [dirname(EXAMPLE_PIPELINE)], logger });
  // Interrupted: stop the worker and the private Redis before leaving, then exit as interrupted.
  const onSignal = (): void => {
    void cluster.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await waitForNodes(cluster.coordinator, 1, 60_000);
    const client = new CoordinatorClient(cluster.coordinator.httpUrl, cluster.adminKey.key);
    process.stdout.write(`submitting ${relative(process.cwd(), EXAMPLE_PIPELINE)}\n`);
    const { code, view } = await submitCommand(EXAMPLE_PIPELINE, true, client);
    if (code !== 0 || view === null || view.sinkPath === null) {
      process.stdout.write(`the example failed; worker log: ${cluster.workerLogs.join(', ')}\n`);
      return code || 1;
    }
    const lines = (await readFile(view.sinkPath, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    for (const line of lines) {
      const item = JSON.parse(line) as { key: string; lines?: { text: string; confidence: number }[] };
      process.stdout.write(`\n${item.key}:\n`);
      for (const l of item.lines ?? []) process.stdout.write(`  ${l.text.padEnd(40)} (${l.confidence.toFixed(3)})\n`);
    }
    process.stdout.write(`\nresults: ${view.sinkPath}\nlogs: ${join(options.dataDir, 'logs')}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cluster.stop();
  }
}

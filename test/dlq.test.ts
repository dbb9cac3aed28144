import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRIDLINE_BIN } from '../cli/worker-process.js';
import { silentLogger } from '../common/logger.js';
import type { DeadLetter, RunView } from '../common/run-types.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { itemId } from '../services/ingestion/files-source.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { TEST_ADMIN_KEY, authedFetch } from './support/auth.js';

const execFileAsync = promisify(execFile);
/** A CLI process presenting the test admin key. */
const run = (file: string, args: readonly string[]) => execFileAsync(file, args, { env: { ...process.env, GRIDLINE_API_KEY: TEST_ADMIN_KEY } });
const SAMPLE = fileURLToPath(new URL('../pipelines/data/bw_text.png', import.meta.url));

const pipeline = (dir: string): string => `apiVersion: gridline/v1
kind: Pipeline
metadata: { name: dlq }
spec:
  source: { kind: files, path: ${dir}, glob: "*.png" }
  stages:
    - name: decode
      type: preprocessing
      retry: { attempts: 2, backoffMs: 50 }
      ops:
        - image.decode: {}
        - fields.drop: { fields: [file, image] }
  sink: { kind: jsonl, path: ${join(dir, 'out.jsonl')} }
`;

/**
 * Items that fail for good land in the run's dead-letter queue with their error; `gridline dlq
 * replay` sends them through the pipeline again as a new run that continues the original's
 * output, so once the input is fixed every item is in the sink exactly once.
 */
describe('dead-letter queue', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  let worker: TestProcess;
  let dir: string;

  const api = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const res = await authedFetch(`${coordinator.httpUrl}${path}`, init);
    return { status: res.status, body: (await res.json()) as T };
  };
  const finished = (id: string): Promise<RunView> => waitFor(`run ${id} to end`, async () => {
    const { body } = await api<RunView>(`/v1/runs/${id}`);
    return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : null;
  }, 120_000, 100);

  beforeAll(async () => {
    const t = testPrefix('dlq');
    cleanup = t.cleanup;
    dir = await mkdtemp(join(tmpdir(), 'gl-dlq-'));
    for (const name of ['a.png', 'b.png', 'c.png']) await copyFile(SAMPLE, join(dir, name));
    await writeFile(join(dir, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n not an image at all'));
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, heartbeatIntervalMs: 500 }, silentLogger);
    worker = gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', 'dlq-1', '--gpus', 'none'], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken });
    await waitFor('the node', () => coordinator.registry.get('dlq-1')?.state === 'ready', 30_000);
  });

  afterAll(async () => {
    await worker?.kill();
    await coordinator?.stop();
    await cleanup?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps a failed item with its error, replays it, and ends with every item in the sink once', async () => {
    const submitted = await api<{ runId: string }>('/v1/pipelines', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: pipeline(dir) });
    expect(submitted.status).toBe(201);
    const first = submitted.body.runId;
    const view = await finished(first);
    expect(view.status).toBe('failed');
    // ingested = completed + dead-lettered, and the counters say so.
    expect(view.items).toEqual({ total: 4, completed: 3, failed: 1, deadLettered: 1 });

    const dlq = await api<{ total: number; items: DeadLetter[] }>(`/v1/runs/${first}/dlq`);
    expect(dlq.body.total).toBe(1);
    expect(dlq.body.items[0]).toMatchObject({ stage: 'decode', key: 'broken.png', code: 'INVALID_ITEM', itemId: itemId(first, 'broken.png') });

    // Replayed as it is, it fails again (the input is still bad), into the replay's own queue.
    const again = await api<{ runId: string; items: number; replayOf: string }>(`/v1/runs/${first}/dlq/replay`, { method: 'POST' });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ items: 1, replayOf: first });
    const second = again.body.runId;
    expect((await finished(second)).items).toEqual({ total: 1, completed: 0, failed: 1, deadLettered: 1 });
    const secondLetters = await api<{ items: DeadLetter[] }>(`/v1/runs/${second}/dlq`);
    // The replay continues the first run's identity: the same item id.
    expect(secondLetters.body.items[0]?.itemId).toBe(itemId(first, 'broken.png'));

    // Fixed, and replayed from the CLI: the item reaches the sink, the earlier lines stay.
    await copyFile(SAMPLE, join(dir, 'broken.png'));
    const { stdout } = await run(process.execPath, [GRIDLINE_BIN, 'dlq', 'replay', second, '--wait', '--coordinator-url', coordinator.httpUrl]);
    expect(stdout).toMatch(/replaying 1 dead-lettered item of .* as run /);
    expect(stdout).toMatch(/succeeded: 1\/1 items/);
    const lines = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; key: string; run: string });
    expect(lines.map((l) => l.key).sort()).toEqual(['a.png', 'b.png', 'broken.png', 'c.png']);
    expect(new Set(lines.map((l) => l.id)).size).toBe(4);
    expect(lines.every((l) => l.run === first)).toBe(true);

    const listed = await run(process.execPath, [GRIDLINE_BIN, 'dlq', first, '--coordinator-url', coordinator.httpUrl]);
    expect(listed.stdout).toMatch(/1 dead-lettered item/);
    expect(listed.stdout).toMatch(/broken\.png\s+INVALID_ITEM/);
  });

  it('refuses to replay a run that has not ended, or a run without dead letters', async () => {
    const ok = await mkdtemp(join(tmpdir(), 'gl-dlq-ok-'));
    try {
      await copyFile(SAMPLE, join(ok, 'x.png'));
      const submitted = await api<{ runId: string }>('/v1/pipelines', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: pipeline(ok) });
      const early = await api<{ error: { code: string; message: string } }>(`/v1/runs/${submitted.body.runId}/dlq/replay`, { method: 'POST' });
      if (early.status !== 409 || !/still/.test(early.body.error.message)) {
        // The run may already have ended on a fast machine: then it has nothing to replay.
        expect(early.body.error.message).toMatch(/no dead-lettered items/);
      }
      await finished(submitted.body.runId);
      const late = await api<{ error: { code: string; message: string } }>(`/v1/runs/${submitted.body.runId}/dlq/replay`, { method: 'POST' });
      expect(late.status).toBe(409);
      expect(late.body.error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/no dead-lettered items/) as string });
    } finally {
      await rm(ok, { recursive: true, force: true });
    }
  });
});

import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import type { PipelineIssue } from '../common/pipeline/types.js';
import type { RunView } from '../common/run-types.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { authHeaders, TEST_ADMIN_KEY } from './support/auth.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';

const SAMPLE = fileURLToPath(new URL('../pipelines/data/bw_text.png', import.meta.url));
const OPS = fileURLToPath(new URL('../pipelines/ops', import.meta.url));

const pipeline = (o: { source: string; sink: string; module: string }): string => `apiVersion: gridline/v1
kind: Pipeline
metadata: { name: tagged }
spec:
  source: { kind: files, path: ${o.source}, glob: "*.png" }
  stages:
    - name: tag
      type: preprocessing
      ops:
        - module: { path: ${o.module}, params: { field: tag, value: demo }, reads: [file] }
        - fields.drop: { fields: [file] }
  sink: { kind: jsonl, path: ${o.sink} }
`;

/**
 * Custom op modules and the allowed directories, end to end: a real coordinator that checks paths
 * at submit, and a worker process that loads the example op module from its --op-module-dir and
 * refuses modules from anywhere else.
 */
describe('custom op modules and allowed directories', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  let worker: TestProcess;
  let dir: string;

  const post = (body: string) => fetch(`${coordinator.httpUrl}/v1/pipelines`, { method: 'POST', headers: authHeaders({ 'content-type': 'application/yaml' }), body });
  const finished = (id: string): Promise<RunView> => waitFor(`run ${id} to end`, async () => {
    const view = (await (await fetch(`${coordinator.httpUrl}/v1/runs/${id}`, { headers: authHeaders() })).json()) as RunView;
    return ['succeeded', 'failed', 'cancelled'].includes(view.status) ? view : null;
  }, 120_000, 100);

  beforeAll(async () => {
    const t = testPrefix('opmod');
    cleanup = t.cleanup;
    dir = await mkdtemp(join(tmpdir(), 'gl-opmod-'));
    await mkdir(join(dir, 'images'));
    for (const name of ['a.png', 'b.png']) await copyFile(SAMPLE, join(dir, 'images', name));
    coordinator = await startCoordinator({ redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, heartbeatIntervalMs: 500, allowedDirs: TEST_ALLOWED_DIRS, adminKey: TEST_ADMIN_KEY }, silentLogger);
    worker = gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', 'opmod-1', '--gpus', 'none', '--op-module-dir', OPS], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken });
    await waitFor('the node', () => coordinator.registry.get('opmod-1')?.state === 'ready', 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${worker.output()}`);
    });
  });

  afterAll(async () => {
    await worker?.kill();
    await coordinator?.stop();
    await cleanup?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a pipeline whose op comes from the example module (gridline submit, paths relative to the file)', async () => {
    const file = join(dir, 'tagged.yaml');
    await writeFile(file, pipeline({ source: './images', sink: './out/tagged.jsonl', module: join(OPS, 'add-field.mjs') }));
    const submit = gridline(['submit', file, '--wait'], { GRIDLINE_COORDINATOR: coordinator.httpUrl });
    const { code } = await submit.exited;
    expect(code, submit.output()).toBe(0);
    const lines = (await readFile(join(dir, 'out', 'tagged.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: string; tag: string; bytes: number });
    const size = (await stat(SAMPLE)).size;
    expect(lines.map((l) => [l.key, l.tag, l.bytes]).sort()).toEqual([['a.png', 'demo', size], ['b.png', 'demo', size]]);
  });

  it('refuses at submit a path outside the allowed directories, naming the field, its line and the allowed dirs', async () => {
    const res = await post(pipeline({ source: '/etc', sink: join(dir, 'out', 'x.jsonl'), module: join(OPS, 'add-field.mjs') }));
    expect(res.status).toBe(403);
    const { error } = (await res.json()) as { error: { code: string; message: string; details: { issues: PipelineIssue[]; allowedDirs: string[] } } };
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.details.issues).toEqual([expect.objectContaining({ path: 'spec.source.path', line: 5 })]);
    expect(error.details.issues[0]!.message).toContain('path /etc is outside the allowed directories');
    expect(error.details.allowedDirs.length).toBe(TEST_ALLOWED_DIRS.length);
  });

  it('fails the run when the worker is given a module from outside its op-module folders', async () => {
    // Inside the coordinator's allowed directories (so it is accepted), but not an op-module folder.
    const copy = join(dir, 'add-field.mjs');
    await copyFile(join(OPS, 'add-field.mjs'), copy);
    const res = await post(pipeline({ source: join(dir, 'images'), sink: join(dir, 'out', 'rogue.jsonl'), module: copy }));
    expect(res.status).toBe(201);
    const view = await finished(((await res.json()) as { runId: string }).runId);
    expect(view.status).toBe('failed');
    expect(view.reason).toContain(`PERMISSION_DENIED: op module ${copy} is outside the op module folders`);
    expect(view.reason).toContain('--op-module-dir');
  });
});

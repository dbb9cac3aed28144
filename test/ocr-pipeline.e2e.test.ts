import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../cli/create-logger.js';
import type { RunView } from '../common/run-types.js';
import { startCoordinator, type RunningCoordinator } from '../coordinator/coordinator.js';
import { BW_TEXT_LINES, levenshtein } from './support/levenshtein.js';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { REDIS_URL, testPrefix } from './support/redis-prefix.js';
import { TEST_ALLOWED_DIRS } from './support/allowed-dirs.js';
import { TEST_ADMIN_KEY, authedFetch } from './support/auth.js';

const PIPELINE = fileURLToPath(new URL('../pipelines/ocr.yaml', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../pipelines/data/bw_text.png', import.meta.url));

/**
 * The whole path on real parts: the pipeline YAML from pipelines/, a coordinator, two worker
 * processes over gRPC, BullMQ on the real Redis, the real PP-OCRv4 models, a JSONL sink.
 */
describe('OCR pipeline end to end on two worker processes', () => {
  let coordinator: RunningCoordinator;
  let cleanup: () => Promise<void>;
  let dir: string;
  const workers: TestProcess[] = [];
  const IMAGES = ['a.png', 'b.png', 'c.png'];

  beforeAll(async () => {
    const t = testPrefix('e2e');
    cleanup = t.cleanup;
    dir = await mkdtemp(join(tmpdir(), 'gl-e2e-'));
    for (const name of IMAGES) await copyFile(SAMPLE, join(dir, name));
    await writeFile(join(dir, 'notes.txt'), 'not an image: the glob must skip it');
    coordinator = await startCoordinator({ adminKey: TEST_ADMIN_KEY, redisUrl: REDIS_URL, keyPrefix: t.prefix, httpPort: 0, grpcPort: 0, allowedDirs: TEST_ALLOWED_DIRS, heartbeatIntervalMs: 1000 }, createLogger({ name: 'e2e', level: 'warn', format: 'json' }));
    for (const [i, gpus] of ['sim:1xT4-16GB', 'sim:1xL4-24GB'].entries()) {
      workers.push(gridline(['worker', '--coordinator', coordinator.grpcAddress, '--node-id', `w${i + 1}`, '--gpus', gpus], { GRIDLINE_JOIN_TOKEN: coordinator.joinToken }));
    }
    await waitFor('two ready nodes', () => coordinator.registry.list().filter((n) => n.state === 'ready').length === 2, 30_000);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await coordinator?.stop();
    await cleanup?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes exactly one JSONL line per image with the ten lines of bw_text.png', async () => {
    const doc = parseDocument(await readFile(PIPELINE, 'utf8'));
    doc.setIn(['spec', 'source', 'path'], dir);
    doc.setIn(['spec', 'sink', 'path'], join(dir, 'out', 'ocr.jsonl'));
    const res = await authedFetch(`${coordinator.httpUrl}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: doc.toString() });
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };

    let replicasSeen: RunView['replicas'] = [];
    const view = await waitFor('the run to end', async () => {
      const v = (await (await authedFetch(`${coordinator.httpUrl}/v1/runs/${runId}`)).json()) as RunView;
      if (v.replicas.length > 0) replicasSeen = v.replicas;
      return ['succeeded', 'failed', 'cancelled'].includes(v.status) ? v : null;
    }, 240_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${workers.map((w) => w.output().slice(-3000)).join('\n---\n')}`);
    });
    expect(view.status, `${view.reason}\n${JSON.stringify(view.errors)}`).toBe('succeeded');
    expect(view.items).toEqual({ total: 3, completed: 3, failed: 0, deadLettered: 0 });
    for (const stage of view.stages) expect(view.counters[stage.name]?.failed).toBe(0);

    // The two recognize replicas were spread over both nodes, and every model replica got GPU
    // memory on a (simulated) GPU; the workers still ran them on the CPU provider.
    const recognizeNodes = new Set(replicasSeen.filter((r) => r.stage === 'recognize').map((r) => r.nodeId));
    expect(recognizeNodes.size, JSON.stringify(replicasSeen)).toBe(2);
    for (const r of replicasSeen.filter((x) => x.kind === 'model-serving')) {
      expect(r.gpus, r.replicaId).toEqual([{ index: 0, memory: 1024 ** 3 }]);
    }

    const lines = (await readFile(join(dir, 'out', 'ocr.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; key: string; run: string; lines: { text: string; confidence: number; box: number[][] }[] });
    expect(lines.map((l) => l.key).sort()).toEqual(IMAGES);
    expect(new Set(lines.map((l) => l.id)).size).toBe(IMAGES.length);
    for (const item of lines) {
      expect(item.run).toBe(runId);
      expect(item.lines.map((l) => l.text)).toHaveLength(BW_TEXT_LINES.length);
      item.lines.forEach((line, i) => {
        expect(levenshtein(line.text, BW_TEXT_LINES[i]!), `${item.key} line ${i}: "${line.text}"`).toBeLessThanOrEqual(2);
        expect(line.confidence).toBeGreaterThan(0.5);
        expect(line.box).toHaveLength(4);
      });
    }
  });

  it('fails a run with a corrupt image alone: the good image still reaches the sink, the counters add up', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'gl-e2e-bad-'));
    try {
      await copyFile(SAMPLE, join(bad, 'good.png'));
      await writeFile(join(bad, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n this is not an image'));
      const doc = parseDocument(await readFile(PIPELINE, 'utf8'));
      doc.setIn(['spec', 'source', 'path'], bad);
      doc.setIn(['spec', 'sink', 'path'], join(bad, 'out.jsonl'));
      const res = await authedFetch(`${coordinator.httpUrl}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: doc.toString() });
      const { runId } = (await res.json()) as { runId: string };
      const view = await waitFor('the run to end', async () => {
        const v = (await (await authedFetch(`${coordinator.httpUrl}/v1/runs/${runId}`)).json()) as RunView;
        return ['succeeded', 'failed', 'cancelled'].includes(v.status) ? v : null;
      }, 240_000, 200);
      expect(view.status).toBe('failed');
      expect(view.reason).toMatch(/1 of 2 items failed; first: broken\.png/);
      expect(view.items).toEqual({ total: 2, completed: 1, failed: 1, deadLettered: 1 });
      expect(view.counters['detect-prep']).toMatchObject({ failed: 1, completed: 1 });
      expect(view.errors[0]).toMatchObject({ stage: 'detect-prep', key: 'broken.png', code: 'INVALID_ITEM' });
      const lines = (await readFile(join(bad, 'out.jsonl'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(1);
      expect((JSON.parse(lines[0]!) as { key: string }).key).toBe('good.png');
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('rejects a malformed pipeline with every problem and its line, and keeps serving', async () => {
    const bad = 'apiVersion: gridline/v1\nkind: Pipeline\nmetadata: { name: bad }\nspec:\n  source: { kind: files, path: /tmp, glob: "*" }\n  stages:\n    - name: s1\n      type: preprocessing\n      ops: [ { image.blur: {} } ]\n  sink: { kind: jsonl, path: /tmp/x.jsonl }\n  extra: 1\n';
    const res = await authedFetch(`${coordinator.httpUrl}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: bad });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { issues: { path: string; line: number }[] } } };
    expect(body.error.code).toBe('INVALID_PIPELINE');
    const paths = body.error.details.issues.map((i) => i.path);
    expect(paths.some((p) => p.includes('ops[0]'))).toBe(true);
    expect(paths.some((p) => p.includes('extra'))).toBe(true);
    expect(body.error.details.issues.every((i) => typeof i.line === 'number')).toBe(true);
    const health = await authedFetch(`${coordinator.httpUrl}/healthz`);
    expect(health.status).toBe(200);
  });
});

/**
 * pipeline-ocr: images/s through pipelines/ocr.yaml (PP-OCRv4 detection → recognition).
 *
 * Both sides read the same folder of K copies of pipelines/data/bw_text.png and run the same
 * stages with the same ops and batching, from the same parsed pipeline:
 *
 * baseline: in one process, no Redis and no queues: the folder listed and chunked as the source
 * does, then each chunk through every stage in turn (preprocessing handler; model executor over
 * onnxruntime-node, as services/ocr-chain.test.ts does). Models are loaded before the clock
 * starts (their load time is in the details).
 *
 * gridline: a local cluster with 1 worker process (the same cores as the baseline), the pipeline
 * submitted over the HTTP API, timed from the POST to the first poll (every 50 ms) that sees the
 * run succeeded: placement, replica start and model loading included, as a user sees it.
 */
import { copyFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { GridlineError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { parsePipeline } from '../common/pipeline/parse-pipeline.js';
import type { PipelineSpec } from '../common/pipeline/types.js';
import type { ModelRuntime } from '../services/model-serving/model-runtime.js';
import type { OpContext } from '../services/preprocessing/op.js';
import type { ChunkHandler } from '../services/stages/chunk-handler.js';
import type { BenchCluster } from './gridline-cluster.js';
import {
  benchPrefix, largest, once, redisFootprint, removeTmp, selfPeakRssBytes,
  type BenchDefinition, type BenchOptions, type SideContext, type SideSession,
} from './harness.js';

const PIPELINE = fileURLToPath(new URL('../pipelines/ocr.yaml', import.meta.url));
const IMAGE = fileURLToPath(new URL('../pipelines/data/bw_text.png', import.meta.url));
/** bw_text.png has ten lines of text (services/ocr-chain.test.ts reads them exactly). */
const EXPECTED_LINES = 10;

function sizes(options: BenchOptions): { images: number } {
  return { images: options.quick ? 4 : 12 };
}

/** A temp folder with `images` copies of bw_text.png. */
async function imageFolder(images: number): Promise<{ tmp: string; dir: string }> {
  const tmp = await mkdtemp(join(tmpdir(), 'glbench-ocr-'));
  const dir = join(tmp, 'images');
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < images; i++) await copyFile(IMAGE, join(dir, `page-${String(i).padStart(3, '0')}.png`));
  return { tmp, dir };
}

/** pipelines/ocr.yaml with its source and sink pointed elsewhere, edited as cli/pipeline-file.ts does. */
async function pipelineText(sourceDir: string, sinkPath: string): Promise<string> {
  const doc = parseDocument(await readFile(PIPELINE, 'utf8'));
  doc.setIn(['spec', 'source', 'path'], sourceDir);
  doc.setIn(['spec', 'sink', 'path'], sinkPath);
  return doc.toString();
}

function checkLines(what: string, lines: unknown): void {
  const n = Array.isArray(lines) ? lines.length : -1;
  if (n !== EXPECTED_LINES) throw new Error(`${what}: read ${n} text lines, expected ${EXPECTED_LINES}`);
}

async function baseline(ctx: SideContext): Promise<SideSession> {
  const { images } = sizes(ctx.options);
  const { tmp, dir } = await imageFolder(images);
  const handlers: ChunkHandler[] = [];
  const runtimes: ModelRuntime[] = [];
  const close = once(async () => {
    for (const h of handlers) await h.close().catch(() => undefined);
    for (const rt of runtimes) await rt.close().catch(() => undefined);
    await removeTmp(tmp, ctx);
  });
  try {
    // Loaded here, not at the top: the gridline side (the coordinator's process) must not carry
    // onnxruntime and sharp in its peak RSS.
    const [{ chunkEntries, itemId, listFiles, readEntry }, { WorkItem }, { createModelExecutor }, { createOnnxRuntime }, { resolveModelUri }, { createPreprocessingHandler }] = await Promise.all([
      import('../services/ingestion/files-source.js'),
      import('../services/items/work-item.js'),
      import('../services/model-serving/model-executor.js'),
      import('../services/model-serving/onnx-runtime.js'),
      import('../services/model-serving/resolve-uri.js'),
      import('../services/stages/preprocessing-handler.js'),
    ]);
    const spec: PipelineSpec = parsePipeline(await pipelineText(dir, join(tmp, 'unused.jsonl')), { format: 'yaml', sourceName: 'ocr.yaml' });
    const opCtx: OpContext = { logger: silentLogger, resolveUri: (uri) => resolveModelUri(uri) };
    const loadStarted = performance.now();
    for (const stage of spec.stages) {
      if (stage.type === 'preprocessing') {
        handlers.push(await createPreprocessingHandler(stage.ops, opCtx));
      } else {
        const rt = await createOnnxRuntime(resolveModelUri(stage.model.uri), { useGpu: false, logger: silentLogger, name: stage.model.name });
        runtimes.push(rt);
        const executor = await createModelExecutor(stage, rt, opCtx);
        handlers.push({ process: (items) => executor.process(items), close: () => executor.close() });
      }
    }
    const loadMs = performance.now() - loadStarted;
    ctx.log(`models loaded in ${loadMs.toFixed(0)} ms`);

    const perRepMs: number[] = [];
    const stageMs = spec.stages.map(() => 0);
    return {
      close,
      async rep(index, warm) {
        const t0 = performance.now();
        const runId = `bench-${index}`;
        const entries = await listFiles(spec.source);
        let done = 0;
        for (const chunk of chunkEntries(entries, spec.chunking)) {
          const items = await Promise.all(chunk.map(async (entry) => {
            const item = new WorkItem({ id: itemId(runId, entry.key), key: entry.key, meta: { source: { path: entry.key, size: entry.size } } });
            item.setBytes('file', await readEntry(entry));
            return item;
          }));
          for (const [s, handler] of handlers.entries()) {
            ctx.signal.throwIfAborted();
            const started = performance.now();
            const results: (GridlineError | null)[] = await handler.process(items);
            if (!warm) stageMs[s]! += performance.now() - started;
            const failed = results.findIndex((r) => r !== null);
            if (failed >= 0) throw new Error(`stage ${spec.stages[s]?.name}: item ${items[failed]?.key} failed: ${results[failed]?.message}`);
          }
          for (const item of items) checkLines(`in-process ${item.key}`, item.meta['lines']);
          done += items.length;
        }
        const ms = performance.now() - t0;
        if (!warm) perRepMs.push(Math.round(ms));
        const rate = done / (ms / 1000);
        ctx.log(`${warm ? 'warm-up' : `rep ${index}`}: ${done} images in ${ms.toFixed(0)} ms = ${rate.toFixed(2)} images/s`);
        return rate;
      },
      async finish() {
        const peak = selfPeakRssBytes();
        await close();
        return {
          label: `in-process, no Redis: ${images} × bw_text.png through the ${spec.stages.length} stages of pipelines/ocr.yaml (same handlers, ops, chunking and batching; 1 det + 1 rec onnxruntime session, loaded beforehand)`,
          unit: 'images/s',
          higherIsBetter: true,
          processes: [{ name: 'bench (in-process models)', pid: process.pid, peakRssBytes: peak }],
          details: {
            images, perRepMs, modelLoadMs: Math.round(loadMs),
            stageMsSummedOverReps: Object.fromEntries(spec.stages.map((s, i) => [s.name, Math.round(stageMs[i]!)])),
          },
        };
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function gridline(ctx: SideContext): Promise<SideSession> {
  const { images } = sizes(ctx.options);
  const { tmp, dir } = await imageFolder(images);
  const footprints: { keys: number; bytes: number }[] = [];
  let bench: BenchCluster | null = null;
  // Loaded here: the baseline side's process must not carry the coordinator in its peak RSS.
  const { runPipeline, startBenchCluster, timingDetails } = await import('./gridline-cluster.js');
  const close = once(async () => {
    await bench?.stop().catch((err: unknown) => ctx.log(`cleanup failed: ${(err as Error).message}`));
    await removeTmp(tmp, ctx);
  });
  try {
    bench = await startBenchCluster({ workers: 1, dataDir: join(tmp, 'cluster'), prefix: benchPrefix('ocr'), ctx });
    const b = bench;
    const perRep: Record<string, unknown>[] = [];
    return {
      close,
      async rep(index, warm) {
        const sink = join(tmp, 'out', `rep-${index}.jsonl`);
        const t = await runPipeline(b.client, await pipelineText(dir, sink), { signal: ctx.signal, timeoutMs: 240_000, logs: b.cluster.workerLogs });
        // Before the coordinator's cleanup (2 heartbeats after the end) removes the run's keys.
        if (!warm) footprints.push(await redisFootprint(`${b.prefix}:*{${t.runId}*`));
        const lines = (await readFile(sink, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { key: string; lines?: unknown });
        if (lines.length !== images) throw new Error(`run ${t.runId}: the sink holds ${lines.length} lines, expected ${images}`);
        for (const l of lines) checkLines(`gridline ${l.key}`, l.lines);
        if (!warm) perRep.push(timingDetails(t));
        const rate = images / (t.totalMs / 1000);
        ctx.log(`${warm ? 'warm-up' : `rep ${index}`}: ${images} images in ${t.totalMs.toFixed(0)} ms = ${rate.toFixed(2)} images/s ` +
          `(running at ${t.runningMs?.toFixed(0)} ms, first image sunk at ${t.firstSinkMs?.toFixed(0)} ms, all sunk at ${t.allSunkMs?.toFixed(0)} ms)`);
        return rate;
      },
      async finish() {
        const { peaks, keysRemoved } = await b.stop();
        await close();
        return {
          label: `gridline local cluster (coordinator + 1 worker process), pipelines/ocr.yaml as written (recognize: 2 replicas) over ${images} × bw_text.png; POST → succeeded, replica start and model loading included`,
          unit: 'images/s',
          higherIsBetter: true,
          processes: peaks,
          redis: largest(footprints),
          details: { images, perRep, redisPerRep: footprints, redisKeysRemovedAtEnd: keysRemoved },
        };
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const pipelineOcrBench: BenchDefinition = {
  name: 'pipeline-ocr',
  description: 'images/s through pipelines/ocr.yaml on 1 worker process vs the same stages run in-process',
  target: { text: 'ratio ≥ 0.9', check: ({ ratio }) => (ratio === null ? null : ratio >= 0.9) },
  sides: { baseline, gridline },
  rounds: (o) => (o.quick ? { warmup: 1, reps: 1 } : { warmup: 1, reps: 3 }),
  timeoutMs: (o) => (o.quick ? 240_000 : 420_000),
};

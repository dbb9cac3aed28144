import type { Redis } from 'ioredis';
import { GridlineError, isGridlineError, toGridlineError } from '../../common/errors.js';
import type { ChunkJob, FieldRef } from '../../common/job-payload.js';
import { SOURCE_DONE_FIELD, SOURCE_TOTAL_FIELD } from '../../common/job-payload.js';
import { keySpace } from '../../common/keys.js';
import type { Logger } from '../../common/logger.js';
import type { ReplicaSpec } from '../../common/replica-spec.js';
import { chunkEntries, itemId, listFiles, readEntry } from '../ingestion/files-source.js';
import { ItemCodec } from '../items/item-codec.js';
import type { FileAccess } from '../file-access/file-access.js';
import type { WorkItem } from '../items/work-item.js';
import { resolveModelUri } from '../model-serving/resolve-uri.js';
import type { RuntimeCache } from '../model-serving/runtime-cache.js';
import type { ServingHost } from '../model-serving/serving-host.js';
import type { OpContext } from '../preprocessing/op.js';
import { createConsumer, createProducer, type JobContext, type StageConsumer, type StageProducer } from '../queue/stage-queues.js';
import { redisBlobStore } from '../store/blob-store.js';
import { redisRunCounters } from '../store/run-counters.js';
import type { ChunkHandler } from './chunk-handler.js';
import { createJsonlSinkHandler } from './jsonl-sink-handler.js';
import { createModelHandler } from './model-handler.js';
import { createPreprocessingHandler } from './preprocessing-handler.js';

/** How often a replica looks for failed chunks nobody counted (see startFailedSweep). */
const FAILED_SWEEP_MS = 15_000;

/** Chunks the source reads and enqueues concurrently. */
const SOURCE_CHUNKS_IN_FLIGHT = 4;

export type ReplicaRunPhase = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface StageReplica {
  readonly spec: ReplicaSpec;
  readonly phase: ReplicaRunPhase;
  readonly message: string;
  /** Items this replica finished (succeeded or failed for good). */
  readonly processed: number;
  stop(drain: boolean): Promise<void>;
}

export interface ReplicaDeps {
  /** Shared, non-blocking connection (blobs, counters, producers). */
  readonly redis: Redis;
  readonly logger: Logger;
  /** A real GPU was granted: try the CUDA provider. */
  readonly useGpu: boolean;
  /** The node's loaded model sessions, shared between its replicas. */
  readonly runtimes: RuntimeCache;
  /** The node's online model server: exposed model stages serve their model there. */
  readonly serving?: ServingHost;
  readonly onPhase?: (replica: StageReplica) => void;
  /** What the replica may read and write on this node, and where op modules load from. */
  readonly access: FileAccess;
}

/**
 * Runs one stage replica: a BullMQ consumer on the stage's queue that decodes each chunk, runs the
 * stage's handler, forwards the surviving items to the next stage's queue under the same chunk id
 * (so a retried chunk dedupes), and counts items idempotently.
 */
export async function startStageReplica(spec: ReplicaSpec, deps: ReplicaDeps): Promise<StageReplica> {
  const { redis, logger } = deps;
  const keys = keySpace(spec.keyPrefix);
  const counters = redisRunCounters(redis, keys);
  const codec = new ItemCodec(redisBlobStore(redis), (item, field, version) => keys.blob(spec.runId, item, field, version));
  const log = logger.child({ replica: spec.replicaId, stage: spec.stage });
  const ctx: OpContext = { logger: log, resolveUri: (uri) => resolveModelUri(uri, { access: deps.access }), fileAccess: deps.access };
  const next: StageProducer | null = spec.nextQueue === null ? null : createProducer(redis, keys.queuePrefix, spec.nextQueue);

  let phase: ReplicaRunPhase = 'starting';
  let message = '';
  let processed = 0;
  let consumer: StageConsumer | null = null;
  let handler: ChunkHandler | null = null;
  let sweepTimer: NodeJS.Timeout | null = null;

  const replica: StageReplica = {
    spec,
    get phase() { return phase; },
    get message() { return message; },
    get processed() { return processed; },
    async stop(drain) {
      if (phase === 'stopped') return;
      setPhase(drain ? 'draining' : phase);
      if (sweepTimer !== null) clearInterval(sweepTimer);
      await consumer?.close(drain);
      await handler?.close().catch((err: unknown) => log.warn({ err }, 'closing the stage handler failed'));
      await next?.close();
      setPhase('stopped');
    },
  };
  const setPhase = (p: ReplicaRunPhase, msg = ''): void => {
    phase = p;
    message = msg;
    deps.onPhase?.(replica);
  };

  /** Adds the items to the next queue; counting them there is left to the caller's settle(). */
  const enqueue = async (chunkId: string, items: WorkItem<FieldRef>[]): Promise<void> => {
    if (next === null || spec.nextStage === null || items.length === 0) return;
    const envelopes = await codec.encode(items, spec.stage);
    const job: ChunkJob = { runId: spec.runId, chunkId, items: envelopes };
    await next.add(job, { jobId: chunkId, attempts: spec.retry.attempts, backoffMs: spec.retry.backoffMs });
  };
  const forward = async (chunkId: string, items: WorkItem<FieldRef>[]): Promise<void> => {
    await enqueue(chunkId, items);
    if (spec.nextStage !== null) await counters.countOnce(spec.runId, spec.nextStage, 'queued', chunkId, items.length);
  };

  const fail = async (chunkId: string, failures: { item: WorkItem<FieldRef>; error: GridlineError }[]): Promise<void> => {
    for (const { item, error } of failures) {
      log.warn({ item: item.id, key: item.key, code: error.code, err: error.message }, 'item failed');
      await counters.recordError(spec.runId, { stage: spec.stage, itemId: item.id, key: item.key, code: error.code, message: error.message });
    }
    await counters.countOnce(spec.runId, spec.stage, 'failed', chunkId, failures.length);
  };

  const processChunk = async (job: { data: ChunkJob; attempt: number; maxAttempts: number }): Promise<void> => {
    const { chunkId } = job.data;
    const items = job.data.items.map((e) => codec.decode(e));
    await counters.addActive(spec.runId, spec.stage, items.length);
    let activeSettled = false;
    try {
      let results: (GridlineError | null)[];
      try {
        results = await handler!.process(items);
      } catch (err) {
        // A GridlineError says whether a retry can help; anything else (a dropped connection,
        // a library bug) gets the benefit of the doubt.
        const error = isGridlineError(err) ? err : new GridlineError('INTERNAL', (err as Error).message ?? String(err), { retryable: true, cause: err });
        // Retry the whole chunk while attempts remain and a retry can help; then fail its items.
        if (error.retryable && job.attempt < job.maxAttempts) throw error;
        results = items.map(() => error);
      }
      const ok = items.filter((_, i) => results[i] === null);
      const failed = items.flatMap((item, i) => (results[i] ? [{ item, error: results[i] }] : []));
      await enqueue(chunkId, ok);
      for (const { item, error } of failed) log.warn({ item: item.id, key: item.key, code: error.code, err: error.message }, 'item failed');
      // Every count for this chunk in one round trip; each is idempotent by chunk id.
      await counters.settle(spec.runId, chunkId, {
        stage: spec.stage,
        nextStage: spec.nextStage,
        forwarded: ok.length,
        completed: ok.length,
        failed: failed.map(({ item, error }) => ({ stage: spec.stage, itemId: item.id, key: item.key, code: error.code, message: error.message })),
        active: -items.length,
      });
      activeSettled = true;
      processed += items.length;
    } finally {
      if (!activeSettled) await counters.addActive(spec.runId, spec.stage, -items.length);
    }
  };

  // Items carry their lineage's identity: a replay continues the original run's ids and lines.
  const lineage = spec.lineageRunId ?? spec.runId;
  const runSource = async (): Promise<void> => {
    if (spec.source === null) throw new GridlineError('INTERNAL', 'source replica without a source spec');
    let entries;
    try {
      entries = await listFiles(spec.source, deps.access);
    } catch (err) {
      const error = toGridlineError(err, 'INVALID_ARGUMENT');
      await counters.set(spec.runId, 'source:error', error.message);
      throw error;
    }
    // A replay reads only the dead-lettered keys; one whose file is gone fails again, saying so.
    const wanted = spec.sourceKeys ?? null;
    const missing: string[] = [];
    if (wanted !== null) {
      const present = new Set(entries.map((e) => e.key));
      missing.push(...wanted.filter((k) => !present.has(k)));
      const keep = new Set(wanted);
      entries = entries.filter((e) => keep.has(e.key));
    }
    await counters.set(spec.runId, SOURCE_TOTAL_FIELD, entries.length + missing.length);
    if (missing.length > 0) {
      await fail(`${spec.runId}-missing`, missing.map((key) => ({
        item: codec.decode({ id: itemId(lineage, key), key, meta: {}, fields: {} }),
        error: new GridlineError('INVALID_ITEM', `${key} is no longer in the source folder ${spec.source!.path}`),
      })));
    }
    const chunks = chunkEntries(entries, spec.chunking);
    const sendChunk = async (index: number): Promise<void> => {
      const chunk = chunks[index]!;
      const chunkId = `${spec.runId}-c${index}`;
      const items: WorkItem<FieldRef>[] = [];
      const failures: { item: WorkItem<FieldRef>; error: GridlineError }[] = [];
      const contents = await Promise.allSettled(chunk.map((entry) => readEntry(entry)));
      chunk.forEach((entry, i) => {
        const item = codec.decode({ id: itemId(lineage, entry.key), key: entry.key, meta: { source: { path: entry.key, size: entry.size } }, fields: {} });
        const read = contents[i]!;
        if (read.status === 'fulfilled') {
          item.setBytes('file', read.value);
          items.push(item);
        } else {
          failures.push({ item, error: new GridlineError('INVALID_ITEM', `cannot read ${entry.path}: ${(read.reason as Error).message}`) });
        }
      });
      await forward(chunkId, items);
      await fail(chunkId, failures);
      await counters.countOnce(spec.runId, spec.stage, 'completed', chunkId, items.length);
      processed += chunk.length;
    };
    // A few chunks in flight at once: reading files and Redis round trips overlap.
    let cursor = 0;
    await Promise.all(Array.from({ length: Math.min(SOURCE_CHUNKS_IN_FLIGHT, chunks.length) }, async () => {
      while (cursor < chunks.length) await sendChunk(cursor++);
    }));
    await counters.set(spec.runId, SOURCE_DONE_FIELD, 1);
    log.info({ items: entries.length, chunks: chunks.length }, 'source listed and enqueued');
  };

  try {
    switch (spec.kind) {
      case 'preprocessing':
        if (spec.userStage?.type !== 'preprocessing') throw new GridlineError('INTERNAL', 'preprocessing replica without ops');
        handler = await createPreprocessingHandler(spec.userStage.ops, ctx);
        break;
      case 'model-serving':
        if (spec.userStage?.type !== 'model-serving') throw new GridlineError('INTERNAL', 'model replica without a model');
        handler = await createModelHandler(spec.userStage, ctx, { useGpu: deps.useGpu, runtimes: deps.runtimes, ...(deps.serving ? { serving: deps.serving } : {}) }, spec.serving ?? null);
        break;
      case 'sink':
        if (spec.sink === null) throw new GridlineError('INTERNAL', 'sink replica without a sink spec');
        handler = await createJsonlSinkHandler(spec.sink, spec.lineageRunId ?? spec.runId, redis, keys.runSinkWritten(spec.runId), log, deps.access);
        break;
      case 'source':
        break;
      case 'model-server':
        throw new GridlineError('INTERNAL', 'a model-server replica has no queue: the node serves it directly');
    }
  } catch (err) {
    const error = toGridlineError(err);
    log.error({ code: error.code, err: error.message }, 'stage replica failed to start');
    await next?.close();
    setPhase('failed', `${error.code}: ${error.message}`);
    return replica;
  }

  consumer = createConsumer<ChunkJob>(
    redis,
    keys.queuePrefix,
    spec.queue,
    async (job) => {
      try {
        if (spec.kind === 'source') await runSource();
        else await processChunk(job);
      } catch (err) {
        if (isGridlineError(err) && !err.retryable && spec.kind === 'source') {
          log.error({ err: err.message }, 'source failed');
          await counters.set(spec.runId, 'source:error', err.message);
          return; // the coordinator fails the run
        }
        throw err;
      }
    },
    {
      concurrency: spec.concurrency,
      onError: (err) => log.warn({ err: err.message }, 'queue error (BullMQ; a lost connection reconnects by itself, a lost lock returns the chunk to the queue)'),
      onFinalFailure: (job, err) => settleFinalFailure(job, err),
    },
  );
  setPhase('running');
  log.info({ queue: spec.queue, concurrency: spec.concurrency }, 'stage replica running');
  if (spec.kind !== 'source') startFailedSweep();
  return replica;

  /**
   * A chunk failed for good outside the per-item accounting (errors while forwarding or counting
   * on its last attempt, a stall limit): count its items failed (dead letters) so the run can
   * still end. Idempotent: a chunk counted already is left alone.
   */
  async function settleFinalFailure(job: JobContext<unknown>, err: Error): Promise<void> {
    if (spec.kind === 'source') {
      await counters.set(spec.runId, 'source:error', `source job failed: ${err.message}`);
      return;
    }
    const chunk = job.data as ChunkJob;
    if (await counters.wasCounted(spec.runId, spec.stage, 'completed', chunk.chunkId)) return;
    if (await counters.wasCounted(spec.runId, spec.stage, 'failed', chunk.chunkId)) return;
    // Items that already reached the next queue (enqueued, then settling failed) go on there:
    // count only the rest as failed, and count the forwarded ones as queued downstream.
    const forwarded = next === null ? null : ((await next.get(chunk.chunkId)) as ChunkJob | undefined);
    const onward = new Set((forwarded?.items ?? []).map((i) => i.id));
    const lost = chunk.items.filter((i) => !onward.has(i.id));
    log.error({ chunk: chunk.chunkId, failed: lost.length, forwarded: onward.size, err: err.message }, 'chunk failed for good');
    await counters.settle(spec.runId, chunk.chunkId, {
      stage: spec.stage,
      nextStage: spec.nextStage,
      forwarded: onward.size,
      completed: onward.size,
      failed: lost.map((e) => ({ stage: spec.stage, itemId: e.id, key: e.key, code: 'INTERNAL', message: err.message })),
      active: 0,
    });
  }

  /**
   * A worker that dies between BullMQ failing a chunk and its `failed` handler loses that count,
   * and the run would wait forever: every replica sweeps its queue's failed chunks now and then
   * and settles those nobody counted (settling is idempotent, so two replicas sweeping is fine).
   */
  function startFailedSweep(): void {
    const sweep = async (): Promise<void> => {
      if (consumer === null || !consumer.running) return;
      for (const { job, reason } of await consumer.failedJobs(1000)) await settleFinalFailure(job, new Error(reason));
    };
    const timer = setInterval(() => {
      sweep().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'sweeping failed chunks failed; will retry'));
    }, FAILED_SWEEP_MS);
    timer.unref();
    sweepTimer = timer;
  }
}

import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, rename, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import type { JsonObject } from '../../common/json.js';
import type { JsonlSink } from '../../common/pipeline/types.js';
import type { Logger } from '../../common/logger.js';
import { allowedPath, type FileAccess } from '../file-access/file-access.js';
import type { ChunkHandler } from './chunk-handler.js';
import { acquireSinkWriterLease } from './sink-writer-lease.js';

/**
 * Appends one JSON line per item. Idempotent: the ids written are kept in a Redis set, and on
 * start the sink re-reads its file so a line written just before a crash is not written again.
 * A results file left by another run is moved to `<path>.prev` so the file holds this run only.
 * One replica writes the file at a time (sink-writer-lease.ts).
 */
export async function createJsonlSinkHandler(
  sink: JsonlSink,
  runId: string,
  redis: Redis,
  writtenKey: string,
  logger: Logger,
  access?: FileAccess,
): Promise<ChunkHandler> {
  // Checked before the folder is made; the real path is written, so a symlink placed later cannot redirect it.
  const path = access === undefined ? sink.path : allowedPath(sink.path, access, 'sink file');
  await mkdir(dirname(path), { recursive: true });
  const lease = await acquireSinkWriterLease(redis, `${writtenKey}:writer`, logger);
  try {
    await recoverWrittenIds(path, runId, redis, writtenKey, logger);
  } catch (err) {
    await lease.release();
    throw err;
  }
  return {
    async process(items) {
      lease.check();
      const fresh: typeof items = [];
      if (items.length > 0) {
        const seen = await redis.smismember(writtenKey, ...items.map((i) => i.id));
        items.forEach((item, i) => {
          if (seen[i] === 0) fresh.push(item);
        });
      }
      if (fresh.length > 0) {
        const lines = fresh.map((item) => JSON.stringify(lineOf(item.id, item.key, runId, item.meta, sink.fields))).join('\n') + '\n';
        const before = await stat(path).then((st) => st.size, () => 0);
        try {
          await appendFile(path, lines);
        } catch (err) {
          // A partial append (disk full) must not leave half a line for the retry to glue onto.
          await truncate(path, before).catch(() => undefined);
          throw err;
        }
        await redis.sadd(writtenKey, ...fresh.map((i) => i.id));
      }
      return items.map(() => null);
    },
    async close() {
      await lease.release();
    },
  };
}

function lineOf(id: string, key: string, run: string, meta: JsonObject, fields: readonly string[] | null): JsonObject {
  const line: JsonObject = { id, key, run };
  for (const [name, value] of Object.entries(meta)) {
    if (fields === null || fields.includes(name)) line[name] = value;
  }
  return line;
}

async function recoverWrittenIds(path: string, runId: string, redis: Redis, writtenKey: string, logger: Logger): Promise<void> {
  const exists = await stat(path).then(() => true, () => false);
  if (!exists) return;
  const ours: string[] = [];
  let foreign = 0;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const parsed = JSON.parse(line) as { id?: unknown; run?: unknown };
      if (parsed.run === runId && typeof parsed.id === 'string') ours.push(parsed.id);
      else foreign += 1;
    } catch {
      foreign += 1;
    }
  }
  if (foreign > 0 && ours.length === 0) {
    await rename(path, `${path}.prev`);
    logger.info({ path, previous: `${path}.prev` }, 'results file held another run: moved it aside');
    return;
  }
  if (ours.length > 0) {
    // Only a file of this run is trimmed; another run's file is moved aside untouched (above).
    await dropPartialLastLine(path, logger);
    for (let i = 0; i < ours.length; i += 1000) await redis.sadd(writtenKey, ...ours.slice(i, i + 1000));
    logger.info({ path, recovered: ours.length }, 'sink resumed: lines already written for this run will not be written again');
  }
}

/**
 * A crash (or a full disk) in the middle of an append can leave half a line at the end. Cut it
 * off, so the next append does not glue a new line onto it; the item is written again whole.
 */
async function dropPartialLastLine(path: string, logger: Logger): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return;
    const block = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const view = block.subarray(0, bytesRead);
      if (end === size && view[view.length - 1] === 0x0a) return; // ends cleanly
      const nl = view.lastIndexOf(0x0a);
      if (nl >= 0) {
        await truncate(path, start + nl + 1);
        logger.warn({ path, cut: size - (start + nl + 1) }, 'results file ended in a partial line (a crash mid-write): cut it off');
        return;
      }
      end = start;
    }
    await truncate(path, 0);
  } finally {
    await handle.close();
  }
}

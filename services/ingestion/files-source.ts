import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { GridlineError } from '../../common/errors.js';
import type { ChunkingSpec, FilesSource } from '../../common/pipeline/types.js';

export interface SourceEntry {
  /** Path relative to the source root: the item's key. */
  readonly key: string;
  readonly path: string;
  readonly size: number;
}

/** Lists a files source in a stable order (sorted keys), so item and chunk ids are deterministic. */
export async function listFiles(source: FilesSource): Promise<SourceEntry[]> {
  const root = source.path;
  const rootStat = await stat(root).catch(() => null);
  if (rootStat === null || !rootStat.isDirectory()) {
    throw new GridlineError('INVALID_ARGUMENT', `source path ${root} is not a readable directory`);
  }
  const keys = (await glob(source.glob, { cwd: root, onlyFiles: true, dot: false, followSymbolicLinks: false })).sort();
  const limited = source.limit === null ? keys : keys.slice(0, source.limit);
  // Stat in parallel batches: one at a time costs a syscall round trip per file.
  const entries: SourceEntry[] = [];
  for (let i = 0; i < limited.length; i += STAT_BATCH) {
    const batch = limited.slice(i, i + STAT_BATCH);
    const sizes = await Promise.all(batch.map((key) => stat(join(root, key)).then((s) => s.size)));
    batch.forEach((key, j) => entries.push({ key, path: join(root, key), size: sizes[j]! }));
  }
  return entries;
}

const STAT_BATCH = 256;

/** Groups entries into chunks bounded by item count and bytes (an oversized file rides alone). */
export function chunkEntries(entries: readonly SourceEntry[], chunking: ChunkingSpec): SourceEntry[][] {
  const chunks: SourceEntry[][] = [];
  let current: SourceEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length > 0 && (current.length >= chunking.maxItems || bytes + entry.size > chunking.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Deterministic item id: run, source key, fan-out index (no `:` — BullMQ job ids forbid it). */
export function itemId(runId: string, key: string, fanout = 0): string {
  return `${runId}-${createHash('sha1').update(key).digest('hex').slice(0, 16)}-${fanout}`;
}

export function readEntry(entry: SourceEntry): Promise<Buffer> {
  return readFile(entry.path);
}

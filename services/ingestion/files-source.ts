import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { isWithinDir } from '../../common/allowed-dirs.js';
import { GridlineError } from '../../common/errors.js';
import type { ChunkingSpec, FilesSource } from '../../common/pipeline/types.js';
import { allowedPath, type FileAccess } from '../file-access/file-access.js';

export interface SourceEntry {
  /** Path relative to the source root: the item's key. */
  readonly key: string;
  readonly path: string;
  readonly size: number;
}

/**
 * Lists a files source in a stable order (sorted keys), so item and chunk ids are deterministic.
 * Symlinked files and folders are skipped. With `access`, the folder must lie inside the worker's
 * allowed directories (PERMISSION_DENIED naming it otherwise; a symlinked folder is judged by its
 * target).
 */
export async function listFiles(source: FilesSource, access?: FileAccess): Promise<SourceEntry[]> {
  const root = access === undefined ? source.path : allowedPath(source.path, access, 'source folder');
  const rootStat = await stat(root).catch(() => null);
  if (rootStat === null || !rootStat.isDirectory()) {
    throw new GridlineError('INVALID_ARGUMENT', `source path ${source.path} is not a readable directory`);
  }
  const keys = (await glob(source.glob, { cwd: root, onlyFiles: true, dot: false, followSymbolicLinks: false })).sort();
  const limited = source.limit === null ? keys : keys.slice(0, source.limit);
  // A stat is a few microseconds; through libuv's thread pool it costs far more in hand-offs.
  // Stat synchronously in batches and yield between them so the event loop stays responsive.
  const entries: SourceEntry[] = [];
  for (let i = 0; i < limited.length; i += STAT_BATCH) {
    for (const key of limited.slice(i, i + STAT_BATCH)) {
      const path = join(root, key);
      // Validation refuses absolute and `..` globs; a key that still lands outside the root (a
      // pipeline validated elsewhere, a glob library quirk) is never read.
      if (!isWithinDir(root, path)) {
        throw new GridlineError('PERMISSION_DENIED', `source glob ${JSON.stringify(source.glob)} matched ${key}, outside the source folder ${source.path}`);
      }
      // The glob does not follow symlinks; should one come through anyway, it must stay inside.
      if (access === undefined || !lstatSync(path).isSymbolicLink()) {
        entries.push({ key, path, size: statSync(path).size });
        continue;
      }
      const target = allowedPath(path, access, `source file ${key} is a symlink:`);
      entries.push({ key, path: target, size: statSync(target).size });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return entries;
}

const STAT_BATCH = 512;
/** Files up to this size are read synchronously (faster than four thread-pool hops each). */
const SYNC_READ_LIMIT = 64 * 1024;

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

export async function readEntry(entry: SourceEntry): Promise<Buffer> {
  return entry.size <= SYNC_READ_LIMIT ? readFileSync(entry.path) : readFile(entry.path);
}

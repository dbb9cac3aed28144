import type { Redis } from 'ioredis';
import type { CounterStep } from '../../common/job-payload.js';
import type { KeySpace } from '../../common/keys.js';
import type { DeadLetter } from '../../common/run-types.js';

/**
 * Per-run item counters. `countOnce` adds to a stage's counter only the first time a given chunk
 * is counted for that step, so a chunk retried after a crash is not counted twice.
 */
export interface RunCounters {
  countOnce(runId: string, stage: string, step: CounterStep, chunkId: string, n: number): Promise<void>;
  wasCounted(runId: string, stage: string, step: CounterStep, chunkId: string): Promise<boolean>;
  /** Everything a processed chunk changes, in one round trip (MULTI/EXEC: all of it or none). */
  settle(runId: string, chunkId: string, outcome: ChunkOutcome): Promise<void>;
  /** In-flight items: not idempotent by nature, corrected when the chunk completes. */
  addActive(runId: string, stage: string, n: number): Promise<void>;
  set(runId: string, field: string, value: string | number): Promise<void>;
  recordError(runId: string, error: { stage: string; itemId: string; key: string; code: string; message: string }): Promise<void>;
}

export interface ItemError {
  readonly stage: string;
  readonly itemId: string;
  readonly key: string;
  readonly code: string;
  readonly message: string;
}

export interface ChunkOutcome {
  readonly stage: string;
  readonly nextStage: string | null;
  /** Items added to the next stage's queue. */
  readonly forwarded: number;
  readonly completed: number;
  readonly failed: readonly ItemError[];
  /** Change to the stage's in-flight count. */
  readonly active: number;
}

const COUNT_ONCE = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return redis.call('HINCRBY', KEYS[2], ARGV[2], ARGV[3])
end
return -1`;

/** Kept errors per run: enough to explain a failure without growing without bound. */
const MAX_ERRORS = 1000;
const COUNTED_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * HSET arguments for dead letters, one field per item id: an item failed again on a retried
 * chunk overwrites its entry rather than adding one. Unlike the error list, not capped: every
 * failed item must be replayable.
 */
function deadLetterFields(errors: readonly ItemError[]): string[] {
  const at = new Date().toISOString();
  return errors.flatMap((e) => {
    const letter: DeadLetter = { stage: e.stage, itemId: e.itemId, key: e.key, code: e.code, message: e.message, at };
    return [e.itemId, JSON.stringify(letter)];
  });
}

export function redisRunCounters(redis: Redis, keys: KeySpace): RunCounters {
  return {
    async countOnce(runId, stage, step, chunkId, n) {
      if (n === 0) return;
      await redis.eval(COUNT_ONCE, 2, keys.runCounted(runId, stage, step), keys.runCounters(runId), chunkId, `${stage}:${step}`, n, COUNTED_TTL_MS);
    },
    async wasCounted(runId, stage, step, chunkId) {
      return (await redis.sismember(keys.runCounted(runId, stage, step), chunkId)) === 1;
    },
    async settle(runId, chunkId, o) {
      const counted = keys.runCounters(runId);
      // MULTI, not a plain pipeline: a connection lost mid-way applies none of it rather than part
      // (every key shares the run's hash tag, so this holds on Redis Cluster too).
      const p = redis.multi();
      const once = (stage: string, step: CounterStep, n: number): void => {
        if (n > 0) p.eval(COUNT_ONCE, 2, keys.runCounted(runId, stage, step), counted, chunkId, `${stage}:${step}`, n, COUNTED_TTL_MS);
      };
      if (o.nextStage !== null) once(o.nextStage, 'queued', o.forwarded);
      if (o.failed.length > 0) {
        const errors = keys.runErrors(runId);
        p.rpush(errors, ...o.failed.map((e) => JSON.stringify(e))).ltrim(errors, 0, MAX_ERRORS - 1);
        p.hset(keys.runDeadLetters(runId), ...deadLetterFields(o.failed));
      }
      once(o.stage, 'failed', o.failed.length);
      once(o.stage, 'completed', o.completed);
      if (o.active !== 0) p.hincrby(counted, `${o.stage}:active`, o.active);
      const results = await p.exec();
      const failure = results?.find(([err]) => err !== null);
      if (failure) throw failure[0];
    },
    async addActive(runId, stage, n) {
      await redis.hincrby(keys.runCounters(runId), `${stage}:active`, n);
    },
    async set(runId, field, value) {
      await redis.hset(keys.runCounters(runId), field, value);
    },
    async recordError(runId, error) {
      const key = keys.runErrors(runId);
      await redis.multi().rpush(key, JSON.stringify(error)).ltrim(key, 0, MAX_ERRORS - 1)
        .hset(keys.runDeadLetters(runId), ...deadLetterFields([error])).exec();
    },
  };
}

/**
 * Redis key layout shared by the coordinator (which owns run state) and the stage services
 * (which count items and store claim checks). Every key starts with the cluster's prefix so
 * several clusters, or tests, share one Redis without touching each other.
 * Per-run keys carry a `{runId}` hash tag, so on Redis Cluster a run's keys share a slot.
 */
export interface KeySpace {
  readonly prefix: string;
  /** BullMQ's own prefix for stage queues. */
  readonly queuePrefix: string;
  readonly nodes: string;
  readonly runs: string;
  readonly runIndex: string;
  readonly assignments: string;
  runCounters(runId: string): string;
  /** Set of chunk ids already counted at a stage and step (makes counting idempotent). */
  runCounted(runId: string, stage: string, step: string): string;
  runErrors(runId: string): string;
  /** Dead-lettered items of a run: item id -> DeadLetter JSON. */
  runDeadLetters(runId: string): string;
  runSinkWritten(runId: string): string;
  blob(runId: string, itemId: string, field: string, version: string): string;
  blobPattern(runId: string): string;
}

export function keySpace(prefix: string): KeySpace {
  const p = prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
  return Object.freeze({
    prefix: p,
    queuePrefix: `${p}:q`,
    nodes: `${p}:nodes`,
    runs: `${p}:runs`,
    runIndex: `${p}:runs:index`,
    assignments: `${p}:assignments`,
    runCounters: (runId: string) => `${p}:run:{${runId}}:counters`,
    runCounted: (runId: string, stage: string, step: string) => `${p}:run:{${runId}}:counted:${stage}:${step}`,
    runErrors: (runId: string) => `${p}:run:{${runId}}:errors`,
    runDeadLetters: (runId: string) => `${p}:run:{${runId}}:dlq`,
    runSinkWritten: (runId: string) => `${p}:run:{${runId}}:sink-written`,
    blob: (runId: string, itemId: string, field: string, version: string) =>
      `${p}:blob:{${runId}}:${itemId}:${field}:${version}`,
    blobPattern: (runId: string) => `${p}:blob:{${runId}}:*`,
  });
}

/** The BullMQ queue name of a run's stage. The hash tag keeps a queue's keys in one slot. */
export function stageQueueName(runId: string, stage: string): string {
  return `{${runId}.${stage}}`;
}

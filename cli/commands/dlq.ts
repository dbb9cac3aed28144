import type { DeadLetter, RunView } from '../../common/run-types.js';
import type { CoordinatorClient } from '../coordinator-client.js';
import { followRun } from '../run-progress.js';
import { table } from './format.js';

/** `gridline dlq RUN`: the items that failed for good, with their error. */
export async function dlqListCommand(client: CoordinatorClient, runId: string, json: boolean): Promise<void> {
  const res = await client.request<{ total: number; items: DeadLetter[] }>('GET', `/v1/runs/${encodeURIComponent(runId)}/dlq`);
  if (json) {
    process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
    return;
  }
  if (res.total === 0) {
    process.stdout.write(`run ${runId}: no dead-lettered items\n`);
    return;
  }
  process.stdout.write(`run ${runId}: ${res.total} dead-lettered item${res.total === 1 ? '' : 's'} (replay: gridline dlq replay ${runId})\n\n`);
  process.stdout.write(`${table(['STAGE', 'KEY', 'CODE', 'MESSAGE', 'AT'], res.items.map((d) => [d.stage, d.key, d.code, d.message.length > 100 ? `${d.message.slice(0, 97)}...` : d.message, d.at]))}\n`);
}

/**
 * `gridline dlq replay RUN [--wait]`: sends the dead letters through the pipeline again as a new
 * run continuing the original's output. Exit code: 0 when submitted (with --wait: when every
 * replayed item reached the sink).
 */
export async function dlqReplayCommand(client: CoordinatorClient, runId: string, wait: boolean): Promise<number> {
  const res = await client.request<{ runId: string; items: number }>('POST', `/v1/runs/${encodeURIComponent(runId)}/dlq/replay`);
  process.stdout.write(`replaying ${res.items} dead-lettered item${res.items === 1 ? '' : 's'} of ${runId} as run ${res.runId}\n`);
  if (!wait) return 0;
  const view: RunView = await followRun(client, res.runId);
  if (view.status === 'succeeded') {
    process.stdout.write(`run ${res.runId} succeeded: ${view.items.completed}/${view.items.total ?? 0} items in ${view.sinkPath ?? '?'}\n`);
    return 0;
  }
  process.stdout.write(`run ${res.runId} ${view.status}: ${view.reason ?? 'no reason given'}; its own dead letters: gridline dlq ${res.runId}\n`);
  return 1;
}

import type { RunView } from '../../common/run-types.js';
import type { CoordinatorClient } from '../coordinator-client.js';
import { readPipelineFile } from '../pipeline-file.js';
import { followDeployment, followRun } from '../run-progress.js';

/** `gridline submit FILE [--wait]`: starts a run; with --wait, follows it and exits by its outcome. */
export async function submitCommand(file: string, wait: boolean, client: CoordinatorClient): Promise<{ code: number; view: RunView | null; runId: string }> {
  const { text, format } = await readPipelineFile(file);
  const { runId, kind } = await client.request<{ runId: string; kind?: string }>('POST', `/v1/pipelines?source=${encodeURIComponent(file)}`, { text, contentType: format === 'json' ? 'application/json' : 'application/yaml' });
  if (kind === 'ModelDeployment') {
    process.stdout.write(`model deployment ${runId} submitted\n`);
    if (!wait) return { code: 0, view: null, runId };
    const { view, serving } = await followDeployment(client, runId);
    return { code: serving ? 0 : 1, view, runId };
  }
  process.stdout.write(`run ${runId} submitted\n`);
  if (!wait) return { code: 0, view: null, runId };
  const view = await followRun(client, runId);
  const total = view.items.total ?? 0;
  if (view.status === 'succeeded') {
    process.stdout.write(`run ${runId} succeeded: ${view.items.completed}/${total} items in ${view.sinkPath}\n`);
    return { code: 0, view, runId };
  }
  process.stdout.write(`run ${runId} ${view.status}: ${view.reason ?? 'no reason given'}\n`);
  for (const e of view.errors.slice(0, 5)) process.stdout.write(`  ${e.stage} ${e.key}: ${e.code}: ${e.message}\n`);
  if (view.items.deadLettered > 0) process.stdout.write(`${view.items.deadLettered} dead-lettered: gridline dlq ${runId} lists them, gridline dlq replay ${runId} sends them again\n`);
  return { code: 1, view, runId };
}

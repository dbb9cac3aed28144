import type { RunRecord, RunView } from '../../common/run-types.js';
import type { CoordinatorClient } from '../coordinator-client.js';
import { table } from './format.js';

/** `gridline runs [ID]`: the list, or one run with its per-stage counters. */
export async function runsCommand(client: CoordinatorClient, id: string | undefined, json: boolean): Promise<void> {
  if (id === undefined) {
    const { runs } = await client.request<{ runs: (Omit<RunRecord, 'spec'> & { kind?: string })[] }>('GET', '/v1/runs');
    if (json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    else process.stdout.write(`${table(['RUN', 'KIND', 'NAME', 'STATUS', 'CREATED', 'REASON'], runs.map((r) => [r.id, r.kind ?? 'Pipeline', r.pipeline, r.status, r.createdAt, r.reason ?? '']))}\n`);
    return;
  }
  const view = await client.request<RunView>('GET', `/v1/runs/${encodeURIComponent(id)}`);
  if (json) {
    process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return;
  }
  if (view.serving !== null) {
    const s = view.serving;
    process.stdout.write(`model deployment ${view.id} (${view.pipeline}): ${view.status}${view.reason ? ` — ${view.reason}` : ''}\n`);
    process.stdout.write(`serves ${s.model} version ${s.version}: ${s.ready} of ${s.replicas} replicas ready\n\n`);
    process.stdout.write(`${table(['REPLICA', 'NODE', 'PHASE', 'MESSAGE'], view.replicas.map((r) => [r.replicaId, r.nodeId ?? '-', r.phase, r.message]))}\n`);
    return;
  }
  process.stdout.write(`run ${view.id} (${view.pipeline}): ${view.status}${view.reason ? ` — ${view.reason}` : ''}\n`);
  process.stdout.write(`items: ${view.items.completed} completed, ${view.items.failed} failed (${view.items.deadLettered} in the dead-letter queue: gridline dlq ${view.id}), of ${view.items.total ?? '?'}; results: ${view.sinkPath}\n\n`);
  process.stdout.write(`${table(['STAGE', 'QUEUED', 'ACTIVE', 'COMPLETED', 'FAILED'], view.stages.map((s) => {
    const c = view.counters[s.name];
    return [s.name, String(c?.queued ?? 0), String(c?.active ?? 0), String(c?.completed ?? 0), String(c?.failed ?? 0)];
  }))}\n`);
}

export async function cancelCommand(client: CoordinatorClient, id: string): Promise<void> {
  const res = await client.request<{ runId: string; status: string; kind?: string }>('DELETE', `/v1/runs/${encodeURIComponent(id)}`);
  process.stdout.write(res.kind === 'ModelDeployment' ? `model deployment ${res.runId} deleted: its replicas stop and its routes go\n` : `run ${res.runId} ${res.status}\n`);
}

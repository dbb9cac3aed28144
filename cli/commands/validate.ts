import { GridlineError, isGridlineError } from '../../common/errors.js';
import { stageQueueName } from '../../common/keys.js';
import type { PipelineIssue } from '../../common/pipeline/types.js';
import type { WorkloadSpec } from '../../common/pipeline/workload.js';
import type { PlannedStage } from '../../common/run-types.js';
import type { PlacementResult } from '../../coordinator/scheduler/types.js';
import { resolveModelUri } from '../../services/model-serving/resolve-uri.js';
import type { CoordinatorClient } from '../coordinator-client.js';
import { readPipelineFile } from '../pipeline-file.js';
import { gib, table } from './format.js';

/**
 * `gridline validate FILE`: every problem at once with its line (exit 1), or the stages, their
 * queues and the placement plan the coordinator would make now (nothing is run).
 */
export async function validateCommand(file: string, client: CoordinatorClient): Promise<number> {
  let spec: WorkloadSpec;
  let text: string;
  try {
    ({ spec, text } = await readPipelineFile(file));
  } catch (err) {
    if (isGridlineError(err) && err.code === 'INVALID_PIPELINE') {
      const issues = (err.details as { issues?: PipelineIssue[] } | undefined)?.issues ?? [];
      process.stderr.write(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n`);
      for (const i of issues) process.stderr.write(`  ${file}:${i.line ?? '?'}:${i.column ?? '?'}  ${i.path}: ${i.message}\n`);
      return 1;
    }
    throw err;
  }
  const problems: string[] = [];
  // Checked here too so a typo shows before submitting; workers resolve uris on their own disks.
  const uris = spec.kind === 'ModelDeployment'
    ? [{ at: 'spec.model.uri', uri: spec.model.uri }]
    : spec.stages.flatMap((stage, i) => (stage.type === 'model-serving' ? [{ at: `spec.stages[${i}].model.uri`, uri: stage.model.uri }] : []));
  for (const { at, uri } of uris) {
    try {
      resolveModelUri(uri);
    } catch (err) {
      problems.push(`${at}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p}\n`).join('')}`);
    return 1;
  }
  if (spec.kind === 'ModelDeployment') {
    const m = spec.model;
    const b = spec.batching;
    process.stdout.write(`${file}: valid model deployment "${spec.metadata.name}"\n\n`);
    process.stdout.write(`${table(['MODEL', 'VERSION', 'RUNTIME', 'REPLICAS', 'BATCHING', 'URI'], [[
      m.name, m.version, m.runtime, String(spec.replicas),
      b.maxBatchSize > 1 ? `up to ${b.maxBatchSize} rows, wait ${b.maxDelayMs} ms, queue ${b.maxQueueSize}` : `off, queue ${b.maxQueueSize}`, m.uri,
    ]])}\n\n`);
    return printPlacement(client, text, file);
  }
  process.stdout.write(`${file}: valid pipeline "${spec.metadata.name}"\n\n`);
  const stages: { name: string; kind: string; replicas: number; detail: string }[] = [
    { name: 'source', kind: 'source', replicas: 1, detail: `${spec.source.kind} ${spec.source.path} ${spec.source.glob}` },
    ...spec.stages.map((s) => ({
      name: s.name, kind: s.type, replicas: s.replicas,
      detail: s.type === 'model-serving' ? `${s.model.name} (${s.model.runtime}) ${s.resources.gpu > 0 ? `gpu ${s.resources.gpu} ${s.resources.gpuPolicy}` : 'cpu'}` : s.ops.map((o) => o.op).join(' → '),
    })),
    { name: 'sink', kind: 'sink', replicas: 1, detail: `${spec.sink.kind} ${spec.sink.path}` },
  ];
  process.stdout.write(`${table(['STAGE', 'TYPE', 'REPLICAS', 'QUEUE', 'DOES'], stages.map((s) => [s.name, s.kind, String(s.replicas), stageQueueName('<run>', s.name), s.detail]))}\n\n`);
  return printPlacement(client, text, file);
}

/** The placement the coordinator would make now (a dry run), or why it was skipped. */
async function printPlacement(client: CoordinatorClient, text: string, file: string): Promise<number> {
  try {
    const preview = await client.request<{ stages: PlannedStage[]; placement: PlacementResult }>('POST', '/v1/pipelines?dryRun=true', { text, contentType: 'application/yaml' });
    const rows = preview.placement.placements.map((p) => [p.replicaId.replace(/^preview\./, ''), p.nodeId, String(p.cpu), gib(p.memory), p.gpus.map((g) => `${g.index} (${gib(g.memory)})`).join(', ') || 'cpu']);
    process.stdout.write(`placement plan on ${client.baseUrl} now:\n${table(['REPLICA', 'NODE', 'CPU', 'MEMORY', 'GPUS'], rows)}\n`);
    for (const u of preview.placement.unplaced) process.stdout.write(`  ${u.replicaId.replace(/^preview\./, '')}: cannot be placed: ${u.summary}\n`);
  } catch (err) {
    // Paths outside the coordinator's allowed directories: listed like validation problems.
    if (err instanceof GridlineError && err.code === 'PERMISSION_DENIED' && Array.isArray((err.details as { issues?: unknown } | undefined)?.issues)) {
      const issues = (err.details as { issues: PipelineIssue[] }).issues;
      process.stderr.write(`${file}: ${issues.length} path${issues.length === 1 ? '' : 's'} refused by the coordinator at ${client.baseUrl}\n`);
      for (const i of issues) process.stderr.write(`  ${file}:${i.line ?? '?'}:${i.column ?? '?'}  ${i.path}: ${i.message}\n`);
      return 1;
    }
    if (!(err instanceof GridlineError) || err.code !== 'UNAVAILABLE') throw err;
    process.stdout.write(`placement plan: skipped (${err.message})\n`);
  }
  return 0;
}

import { checkFieldFlow } from './check-field-flow.js';
import { runtimeMismatch } from './check-model-runtime.js';
import { checkStageAffinity } from './check-stage-affinity.js';
import type { RawIssue } from './pipeline-issues.js';
import { DNS_LABEL, DNS_LABEL_HINT, MAX_REPLICAS, RESERVED_STAGE_NAMES } from './pipeline-limits.js';
import { linearStageGraph } from './stage-graph.js';
import type { PipelineSpec } from './types.js';

/**
 * Pass 4, on the normalized spec: stage names (format, reserved, unique), replica bounds, the
 * stages named by affinity and anti-affinity, the stage graph (no cycles) and the data flow of
 * item fields through it.
 */
export function checkPipelineGraph(spec: PipelineSpec): RawIssue[] {
  const issues: RawIssue[] = [];
  if (spec.stages.length === 0) issues.push({ path: ['spec', 'stages'], message: 'a pipeline needs at least one stage' });

  const firstIndex = new Map<string, number>();
  spec.stages.forEach((stage, i) => {
    const at = ['spec', 'stages', i];
    if (!DNS_LABEL.test(stage.name)) {
      issues.push({ path: [...at, 'name'], message: `invalid stage name ${JSON.stringify(stage.name)}: ${DNS_LABEL_HINT}` });
    } else if (RESERVED_STAGE_NAMES.includes(stage.name)) {
      issues.push({ path: [...at, 'name'], message: `stage name "${stage.name}" is reserved (${RESERVED_STAGE_NAMES.join(' and ')} name the pipeline's ends)` });
    }
    const first = firstIndex.get(stage.name);
    if (first === undefined) firstIndex.set(stage.name, i);
    else issues.push({ path: [...at, 'name'], message: `duplicate stage name "${stage.name}" (first used by spec.stages[${first}])` });
    if (stage.replicas < 1 || stage.replicas > MAX_REPLICAS) {
      issues.push({ path: [...at, 'replicas'], message: `replicas must be between 1 and ${MAX_REPLICAS}, got ${stage.replicas}` });
    }
  });

  spec.stages.forEach((stage, i) => {
    if (stage.type !== 'model-serving') return;
    const mismatch = runtimeMismatch(stage.model.runtime, stage.model.uri);
    if (mismatch !== null) issues.push({ path: ['spec', 'stages', i, 'model', 'runtime'], message: mismatch });
  });

  // A node serves a model by name: two exposed stages may not claim the same one.
  const exposedBy = new Map<string, number>();
  spec.stages.forEach((stage, i) => {
    if (stage.type !== 'model-serving' || !stage.expose) return;
    const first = exposedBy.get(stage.model.name);
    if (first === undefined) exposedBy.set(stage.model.name, i);
    else issues.push({ path: ['spec', 'stages', i, 'model', 'name'], message: `model "${stage.model.name}" is already exposed by spec.stages[${first}]: exposed models need distinct names` });
  });

  issues.push(...checkStageAffinity(spec));

  const graph = linearStageGraph(spec.stages.length);
  for (const i of graph.cyclic) {
    issues.push({ path: ['spec', 'stages', i], message: `stage "${spec.stages[i]?.name ?? i}" is part of a cycle` });
  }
  issues.push(...checkFieldFlow(spec, graph));
  return issues;
}

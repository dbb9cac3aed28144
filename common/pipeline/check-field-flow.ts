import { findOpDeclaration } from '../ops/declarations.js';
import type { IssuePath } from './issue-path.js';
import type { RawIssue } from './pipeline-issues.js';
import { SOURCE_FIELDS } from './pipeline-limits.js';
import type { StageGraph } from './stage-graph.js';
import type { OpSpec, PipelineSpec, UserStage } from './types.js';

/**
 * Walks stages in graph order and their ops in list order, tracking which item fields exist, and
 * reports every read of a field that nothing earlier wrote. A stage sees the fields that all of
 * its predecessors pass on (the source passes `file`). Meta keys are not tracked.
 */
export function checkFieldFlow(spec: PipelineSpec, graph: StageGraph): RawIssue[] {
  if (graph.order === null) return [];
  const issues: RawIssue[] = [];
  const after = new Map<number, ReadonlySet<string>>();
  for (const index of graph.order) {
    const stage = spec.stages[index];
    if (stage === undefined) continue;
    const inputs = (graph.predecessors[index] ?? []).map((p) => after.get(p) ?? new Set<string>());
    const fields = inputs.length === 0 ? new Set(SOURCE_FIELDS) : intersect(inputs);
    walkStage(stage, ['spec', 'stages', index], fields, issues);
    after.set(index, fields);
  }
  return issues;
}

function walkStage(stage: UserStage, at: IssuePath, fields: Set<string>, issues: RawIssue[]): void {
  if (stage.type === 'preprocessing') {
    walkOps(stage.ops, [...at, 'ops'], fields, issues);
    return;
  }
  walkOps(stage.preprocess, [...at, 'preprocess'], fields, issues);
  const { model } = stage;
  // Without a mapping the model reads field `x` and writes `y` (single input/output models).
  const reads = model.inputs === null ? [{ field: 'x', path: [...at, 'model'] }] : Object.entries(model.inputs).map(([input, field]) => ({ field, path: [...at, 'model', 'inputs', input] }));
  for (const { field, path } of reads) {
    if (!fields.has(field)) issues.push({ path, message: missingFieldMessage(`model ${model.name}`, field, fields) });
  }
  for (const field of model.outputs === null ? ['y'] : Object.values(model.outputs)) fields.add(field);
  walkOps(stage.postprocess, [...at, 'postprocess'], fields, issues);
}

function walkOps(ops: readonly OpSpec[], at: IssuePath, fields: Set<string>, issues: RawIssue[]): void {
  ops.forEach((spec, i) => {
    const declaration = findOpDeclaration(spec.op);
    if (declaration === undefined) return; // the schema pass already reported it
    const io = declaration.io(spec.params);
    for (const field of io.reads) {
      if (!fields.has(field)) issues.push({ path: [...at, i], message: missingFieldMessage(spec.op, field, fields) });
    }
    for (const field of io.writes) fields.add(field);
    for (const field of io.deletes ?? []) fields.delete(field);
  });
}

function missingFieldMessage(reader: string, field: string, fields: ReadonlySet<string>): string {
  const available = fields.size === 0 ? 'none' : [...fields].join(', ');
  return `${reader} reads field \`${field}\`, which no earlier op or stage produces (available: ${available})`;
}

function intersect(sets: readonly ReadonlySet<string>[]): Set<string> {
  const [first, ...rest] = sets;
  return new Set([...(first ?? [])].filter((f) => rest.every((s) => s.has(f))));
}

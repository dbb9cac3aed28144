import { nearestNames } from './nearest-names.js';
import type { RawIssue } from './pipeline-issues.js';
import type { PipelineSpec } from './types.js';

const FIELDS = ['affinity', 'antiAffinity'] as const;

function unknownStageMessage(field: string, name: string, known: readonly string[]): string {
  const near = nearestNames(name, known);
  const hint = near.length > 0 ? `did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : `stages: ${known.join(', ')}`;
  return `${field} names "${name}", which is not a stage of this pipeline (${hint})`;
}

/**
 * The shortest chain of affinity from stage `start` back to itself, as stage indexes from `start`
 * to `start`; null when there is none. `targets[i]` are the stages stage i has affinity to.
 */
function affinityCycle(start: number, targets: readonly (readonly number[])[]): number[] | null {
  const parent = new Map<number, number>();
  const queue = [start];
  for (let k = 0; k < queue.length; k += 1) {
    const at = queue[k]!;
    for (const next of targets[at] ?? []) {
      if (next === start) {
        const path = [start];
        for (let back = at; back !== start; back = parent.get(back)!) path.unshift(back);
        path.unshift(start);
        return path;
      }
      if (!parent.has(next) && next !== start) {
        parent.set(next, at);
        queue.push(next);
      }
    }
  }
  return null;
}

/**
 * Placement constraints between stages: every name in `affinity` and `antiAffinity` is a stage
 * of the pipeline; no stage has affinity to itself, to a stage it also avoids, or along a cycle
 * (a stage of a cycle could never be placed first). Anti-affinity with itself is allowed: one
 * replica per node.
 */
export function checkStageAffinity(spec: PipelineSpec): RawIssue[] {
  const issues: RawIssue[] = [];
  const known = spec.stages.map((stage) => stage.name);
  const indexOf = new Map(known.map((name, i) => [name, i]));
  const targets: number[][] = spec.stages.map(() => []);

  spec.stages.forEach((stage, i) => {
    for (const field of FIELDS) {
      stage[field].forEach((name, j) => {
        const at = ['spec', 'stages', i, field, j];
        const target = indexOf.get(name);
        if (target === undefined) {
          issues.push({ path: at, message: unknownStageMessage(field, name, known) });
        } else if (field === 'affinity' && target === i) {
          issues.push({ path: at, message: `affinity names the stage itself: its first replica could go on no node (antiAffinity with itself keeps replicas apart)` });
        } else if (field === 'antiAffinity' && stage.affinity.includes(name)) {
          issues.push({ path: at, message: `"${name}" is in both affinity and antiAffinity: no node can satisfy both` });
        } else if (field === 'affinity') {
          targets[i]!.push(target);
        }
      });
    }
  });

  spec.stages.forEach((stage, i) => {
    const cycle = affinityCycle(i, targets);
    if (cycle === null) return;
    const names = cycle.map((k) => known[k]!).join(' → ');
    issues.push({ path: ['spec', 'stages', i, 'affinity'], message: `affinity cycle ${names}: none of these stages could be placed first` });
  });
  return issues;
}

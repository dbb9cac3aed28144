/**
 * Which stages feed which. Today a pipeline is a list and each stage follows the one before it;
 * the checks work on this graph so that stages with `after:` (a DAG) need only a new builder.
 */
export interface StageGraph {
  /** predecessors[i]: indexes of the stages whose output stage i reads; empty = the source. */
  readonly predecessors: readonly (readonly number[])[];
  /** A topological order of all stages, or null when there is a cycle. */
  readonly order: readonly number[] | null;
  /** Stages on or behind a cycle (empty when there is none). */
  readonly cyclic: readonly number[];
}

export function linearStageGraph(stageCount: number): StageGraph {
  const predecessors = Array.from({ length: stageCount }, (_, i) => (i === 0 ? [] : [i - 1]));
  return stageGraph(predecessors);
}

/** Kahn's algorithm: stages left over once no stage without pending predecessors remains are cyclic. */
export function stageGraph(predecessors: readonly (readonly number[])[]): StageGraph {
  const pending = predecessors.map((p) => p.length);
  const successors = predecessors.map((): number[] => []);
  predecessors.forEach((preds, i) => preds.forEach((p) => successors[p]?.push(i)));
  const ready = pending.flatMap((n, i) => (n === 0 ? [i] : []));
  const order: number[] = [];
  for (let next = ready.shift(); next !== undefined; next = ready.shift()) {
    order.push(next);
    for (const s of successors[next] ?? []) {
      pending[s] = (pending[s] ?? 0) - 1;
      if (pending[s] === 0) ready.push(s);
    }
  }
  const cyclic = pending.flatMap((n, i) => (n > 0 ? [i] : []));
  return { predecessors, order: cyclic.length === 0 ? order : null, cyclic };
}

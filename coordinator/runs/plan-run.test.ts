import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../common/pipeline/parse-pipeline.js';
import type { PipelineSpec } from '../../common/pipeline/types.js';
import { assertHonoursAffinity, cluster } from '../scheduler/in-memory-cluster.js';
import { place } from '../scheduler/place.js';
import { planRun } from './plan-run.js';

const spec = parsePipeline(readFileSync(new URL('../../pipelines/ocr.yaml', import.meta.url), 'utf8'));

describe('planRun', () => {
  const plan = planRun('r1', spec, 'gl');

  it('wraps the user stages between source and sink, each feeding the next', () => {
    expect(plan.stages.map((s) => s.name)).toEqual(['source', 'detect-prep', 'detect', 'crop-lines', 'recognize', 'sink']);
    expect(plan.stages.map((s) => s.next)).toEqual(['detect-prep', 'detect', 'crop-lines', 'recognize', 'sink', null]);
    expect(plan.stages[0]!.queue).toBe('{r1.source}');
  });

  it('makes one unplaced assignment per replica, grouped per stage for spreading', () => {
    const recognize = plan.assignments.filter((a) => a.stage === 'recognize');
    expect(recognize.map((a) => a.replicaId)).toEqual(['r1.recognize.0', 'r1.recognize.1']);
    expect(recognize.every((a) => a.nodeId === null && a.request.group === 'r1/recognize')).toBe(true);
    expect(plan.assignments).toHaveLength(7);
  });

  it('wires each replica to its queue and the next one, with the next stage\'s retry policy', () => {
    const detect = plan.assignments.find((a) => a.stage === 'detect')!;
    expect(detect.spec.queue).toBe('{r1.detect}');
    expect(detect.spec.nextQueue).toBe('{r1.crop-lines}');
    expect(detect.spec.userStage?.name).toBe('detect');
    const sink = plan.assignments.find((a) => a.stage === 'sink')!;
    expect(sink.spec.nextQueue).toBeNull();
    expect(sink.spec.sink?.path).toBe(spec.sink.path);
  });

  it('is pure: the same input gives the same plan', () => {
    expect(planRun('r1', spec, 'gl')).toEqual(plan);
  });

  it('turns affinity and anti-affinity into group ids, anti-affinity on both sides', () => {
    const constrained: PipelineSpec = {
      ...spec,
      stages: spec.stages.map((stage) =>
        stage.name === 'detect'
          ? { ...stage, affinity: ['detect-prep'] }
          : stage.name === 'recognize'
            ? { ...stage, replicas: 3, antiAffinity: ['detect', 'recognize'] }
            : stage,
      ),
    };
    const requests = planRun('r1', constrained, 'gl').assignments.map((a) => a.request);
    const byStage = (name: string) => requests.filter((r) => r.group === `r1/${name}`);
    expect(byStage('detect')[0]).toMatchObject({ affinity: ['r1/detect-prep'], antiAffinity: ['r1/recognize'] });
    expect(byStage('recognize')[0]).toMatchObject({ antiAffinity: ['r1/detect', 'r1/recognize'] });
    expect(byStage('recognize')[0]).not.toHaveProperty('affinity');
    expect(byStage('source')[0]).not.toHaveProperty('antiAffinity');

    // Placed: detect beside detect-prep, recognize one per node and never beside detect.
    const nodes = cluster().nodes('n', 4, { cpu: 8, memory: '16Gi', gpus: ['T4-16GB'] }).build();
    const result = place(nodes, [], requests);
    assertHonoursAffinity([], requests, result);
    expect(result.unplaced).toEqual([]);
    const nodesOf = (name: string) => result.placements.filter((p) => p.group === `r1/${name}`).map((p) => p.nodeId);
    expect(nodesOf('detect')).toEqual(nodesOf('detect-prep'));
    expect(new Set(nodesOf('recognize')).size).toBe(3);
    expect(nodesOf('recognize')).not.toContain(nodesOf('detect')[0]);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../common/pipeline/parse-pipeline.js';
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
});

import { describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import { createSimProbe, parseSimGpus } from './sim-gpus.js';

const GIB = 1024 ** 3;

describe('parseSimGpus', () => {
  it('expands a count into numbered GPUs', () => {
    expect(parseSimGpus('2xA100-80GB')).toEqual([
      { index: 0, uuid: 'sim-0', model: 'A100', memory: 80 * GIB, simulated: true },
      { index: 1, uuid: 'sim-1', model: 'A100', memory: 80 * GIB, simulated: true },
    ]);
  });

  it('numbers across a mixed list, in order', () => {
    expect(parseSimGpus('1xT4-16GB,1xL4-24GB').map((g) => [g.index, g.uuid, g.model, g.memory / GIB])).toEqual([
      [0, 'sim-0', 'T4', 16],
      [1, 'sim-1', 'L4', 24],
    ]);
  });

  it('takes a count of 1 when none is given, and tolerates spaces', () => {
    expect(parseSimGpus('A10G-24GB')).toEqual([{ index: 0, uuid: 'sim-0', model: 'A10G', memory: 24 * GIB, simulated: true }]);
    expect(parseSimGpus(' 1xT4-16GB , A10G-24GB ')).toHaveLength(2);
  });

  it('keeps hyphens inside the model name', () => {
    expect(parseSimGpus('RTX-4090-24GB')[0]).toMatchObject({ model: 'RTX-4090', memory: 24 * GIB });
  });

  it.each([
    ['', /needs a list/],
    ['A100', /"A100" in "sim:A100" is not/],
    ['2xA100', /"2xA100"/],
    ['2xA100-80', /"2xA100-80"/],
    ['0xA100-80GB', /count must be at least 1/],
    ['A100-0GB', /at least 1GB/],
    ['1xT4-16GB,', /"" in "sim:1xT4-16GB,"/],
    ['1xT4-16GB,,L4-24GB', /"" in/],
    ['2xA100-80GB;1xT4-16GB', /"2xA100-80GB;1xT4-16GB"/],
    ['-2xA100-80GB', /"-2xA100-80GB"/],
    ['65xA100-80GB', /more than 64/],
  ])('rejects sim:%j naming the bad part', (list, message) => {
    let error: unknown;
    try {
      parseSimGpus(list);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GridlineError);
    expect((error as GridlineError).code).toBe('INVALID_ARGUMENT');
    expect((error as GridlineError).message).toMatch(/^--gpus: /);
    expect((error as GridlineError).message).toMatch(message);
  });
});

describe('createSimProbe', () => {
  it('fails at creation on a bad list', () => {
    expect(() => createSimProbe('bogus')).toThrow(GridlineError);
  });

  it('reports what it simulates', async () => {
    expect((await createSimProbe('2xA100-80GB,1xL4-24GB').probe()).note).toBe(
      'simulating 2x A100 (80 GiB), 1x L4 (24 GiB)',
    );
  });
});

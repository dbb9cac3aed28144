import { describe, expect, it } from 'vitest';
import { place } from './place.js';
import {
  DEFAULT_PLACEMENT_POLICY,
  createPlacementPolicy,
  placementPolicyNames,
  registerPlacementPolicy,
} from './placement-policies.js';

describe('placement policies', () => {
  it('makes place() the default policy', () => {
    expect(DEFAULT_PLACEMENT_POLICY).toBe('binpack-spread');
    expect(createPlacementPolicy()).toBe(place);
    expect(createPlacementPolicy('binpack-spread')).toBe(place);
  });

  it('registers named factories and refuses a name twice', () => {
    registerPlacementPolicy('test-nothing', () => (_nodes, _existing, requests) => ({
      placements: [],
      unplaced: requests.map((r) => ({ replicaId: r.replicaId, summary: 'never', reasons: [] })),
    }));
    expect(placementPolicyNames()).toContain('test-nothing');
    expect(createPlacementPolicy('test-nothing')([], [], []).placements).toEqual([]);
    expect(() => registerPlacementPolicy('test-nothing', () => place)).toThrow(/already registered/);
  });

  it('names the known policies when asked for an unknown one', () => {
    expect(() => createPlacementPolicy('random')).toThrow(/unknown placement policy "random"; known: .*binpack-spread/);
  });
});

import { describe, expect, it } from 'vitest';
import { ServiceTokenCheck } from './service-token-check.js';

describe('ServiceTokenCheck', () => {
  it('refuses everything before registration, then takes only the token', () => {
    const check = new ServiceTokenCheck();
    expect(() => check.check('Bearer gls_a')).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    check.set('gls_a');
    expect(() => check.check('Bearer gls_a')).not.toThrow();
    for (const bad of [undefined, '', 'gls_a', 'Bearer gls_b', 'Bearer gls_a2']) {
      expect(() => check.check(bad), String(bad)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    }
  });

  it('takes the previous token for a grace period after a change (requests already under way), then not', () => {
    const clock = { t: 0 };
    const check = new ServiceTokenCheck(10_000, () => clock.t);
    check.set('gls_old');
    check.set('gls_new');
    expect(() => check.check('Bearer gls_new')).not.toThrow();
    clock.t = 9_999;
    expect(() => check.check('Bearer gls_old')).not.toThrow();
    clock.t = 10_000;
    expect(() => check.check('Bearer gls_old')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(() => check.check('Bearer gls_new')).not.toThrow();
  });
});

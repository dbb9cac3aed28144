import { GridlineError } from '../common/errors.js';

const UNIT_S = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `90s`, `30m`, `24h`, `7d` in seconds; `never` is null (no expiry). */
export function parseDuration(flag: string, value: string): number | null {
  if (value === 'never') return null;
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (match === null || Number(match[1]) <= 0) {
    throw new GridlineError('INVALID_ARGUMENT', `${flag} must be a duration such as 30m, 24h or 7d, or "never"; got "${value}"`);
  }
  return Number(match[1]) * UNIT_S[match[2] as keyof typeof UNIT_S];
}

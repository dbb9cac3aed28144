import { GridlineError } from './errors.js';

const SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  // Lower-case k as Kubernetes writes it; K as people write it.
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

const QUANTITY = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([KMGT]i|[kKMGT])?\s*$/;

/**
 * Parses a resource quantity such as `2Gi`, `512Mi`, `1.5G` or `4` into a plain number
 * (bytes for memory). Binary suffixes (Ki, Mi, Gi, Ti) are powers of 1024, decimal ones
 * (K, M, G, T) powers of 1000. A number is returned as is.
 */
export function parseQuantity(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new GridlineError('INVALID_ARGUMENT', `invalid quantity ${String(value)}: expected a non-negative number`);
    }
    return value;
  }
  const match = QUANTITY.exec(value);
  if (match === null) {
    throw new GridlineError(
      'INVALID_ARGUMENT',
      `invalid quantity "${value}": expected a number with an optional suffix Ki, Mi, Gi, Ti, K, M, G or T`,
    );
  }
  const [, digits = '', suffix = ''] = match;
  const multiplier = SUFFIXES[suffix] ?? 1;
  return Number(digits) * multiplier;
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Formats bytes for messages: `16 GiB`, `1.5 GiB`, `512 MiB`, `0 B`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${String(bytes)} B`;
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // Two decimals at most, trailing zeros dropped: enough to tell 7.99 GiB from 8 GiB.
  const text = unit === 0 ? String(Math.round(value)) : String(Number(value.toFixed(2)));
  return `${sign}${text} ${BINARY_UNITS[unit] ?? 'B'}`;
}

/** The string form `parseQuantity` accepts, for JSON Schema `pattern`s. */
export const QUANTITY_PATTERN = QUANTITY.source;

const CPU = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(m?)\s*$/;

/** The string form `parseCpu` accepts, for JSON Schema `pattern`s. */
export const CPU_PATTERN = CPU.source;

/**
 * Parses a CPU amount into cores: `2`, `0.5`, or millicores as Kubernetes writes them (`500m`).
 * A number is returned as is.
 */
export function parseCpu(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new GridlineError('INVALID_ARGUMENT', `invalid cpu ${String(value)}: expected a non-negative number of cores`);
    }
    return value;
  }
  const match = CPU.exec(value);
  if (match === null) {
    throw new GridlineError('INVALID_ARGUMENT', `invalid cpu "${value}": expected cores (2, 0.5) or millicores (500m)`);
  }
  const [, digits = '', milli = ''] = match;
  return milli === 'm' ? Number(digits) / 1000 : Number(digits);
}

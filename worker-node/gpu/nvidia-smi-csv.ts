import { GridlineError } from '../../common/errors.js';

/** Rows of nvidia-smi's `--format=csv,noheader,nounits` output, cells trimmed, blank lines dropped. */
export function parseNvidiaSmiCsv(stdout: string): string[][] {
  return stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.split(',').map((cell) => cell.trim()));
}

/** A numeric cell, or null where nvidia-smi says "[N/A]" / "[Not Supported]" (MIG, some vGPUs). */
export function nvidiaSmiNumber(cell: string): number | null {
  if (cell.startsWith('[')) return null;
  const value = Number(cell);
  return cell !== '' && Number.isFinite(value) ? value : null;
}

export function unexpectedNvidiaSmiOutput(row: readonly string[], why: string): GridlineError {
  return new GridlineError('INTERNAL', `unexpected nvidia-smi output "${row.join(', ')}": ${why}`, {
    details: { row },
  });
}

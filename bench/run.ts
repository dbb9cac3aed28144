/**
 * gridline benchmarks: each figure measured side by side with the raw building block it sits on
 * (../shared/design/PERFORMANCE.md), medians of several repetitions, peak RSS of every process.
 *
 *   npm run bench                         all benchmarks
 *   npm run bench -- --quick              fewer items and repetitions (a smoke run)
 *   npm run bench -- --only pipeline-ocr  one benchmark (repeatable, or comma-separated)
 *
 * Each side runs in a child process of its own under a time limit. The table is printed, and
 * the results are written to bench/results/latest.json. Exits non-zero when a benchmark failed
 * to run; a missed target is reported, not an error.
 */
import { hostname, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { BENCHES } from './benches.js';
import { formatResults, selfPeakRssBytes, writeResults, type BenchOptions, type BenchResult, type SideName, type SideResult } from './harness.js';
import { runSide } from './run-side.js';

const RESULTS = new URL('./results/latest.json', import.meta.url);
const SIDE_ORDER: readonly SideName[] = ['baseline', 'gridline'];

function usage(): string {
  return `usage: npm run bench -- [--quick] [--only <name>]...\nbenchmarks: ${BENCHES.map((b) => b.name).join(', ')}\n`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  const only = (values.only ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter((o) => o !== '');
  const unknown = only.filter((o) => !BENCHES.some((b) => b.name === o));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}\n${usage()}`);
    return 2;
  }
  const selected = only.length === 0 ? BENCHES : BENCHES.filter((b) => only.includes(b.name));
  const options: BenchOptions = { quick: values.quick ?? false };
  const startedAt = new Date();
  const started = performance.now();

  const results: BenchResult[] = [];
  for (const bench of selected) {
    process.stderr.write(`[bench] ${bench.name}: ${bench.description}${options.quick ? ' (quick)' : ''}\n`);
    const sides: Partial<Record<SideName, SideResult>> = {};
    const errors: { side: SideName; message: string }[] = [];
    for (const side of SIDE_ORDER) {
      if (bench.sides[side] === undefined) continue;
      try {
        sides[side] = await runSide(bench.name, side, options, bench.timeoutMs(options));
      } catch (err) {
        errors.push({ side, message: (err as Error).message });
      }
    }
    const baseline = sides.baseline ?? null;
    const gridline = sides.gridline ?? null;
    let ratio: number | null = null;
    if (baseline !== null && gridline !== null && baseline.median > 0 && gridline.median > 0) {
      ratio = gridline.higherIsBetter ? gridline.median / baseline.median : baseline.median / gridline.median;
    }
    const targetMet = errors.length > 0 ? null : bench.target.check({ ratio, gridline });
    results.push({ name: bench.name, description: bench.description, target: bench.target.text, baseline, gridline, ratio, targetMet, errors });
  }

  const wallMs = performance.now() - started;
  process.stdout.write(`\n${formatResults(results)}\n\nbench runner: peak RSS ${(selfPeakRssBytes() / 2 ** 20).toFixed(0)} MiB; total ${(wallMs / 1000).toFixed(0)} s\n`);
  await writeResults(RESULTS, {
    startedAt: startedAt.toISOString(),
    wallMs: Math.round(wallMs),
    quick: options.quick,
    machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, node: process.version },
    runnerPeakRssBytes: selfPeakRssBytes(),
    results,
  });
  process.stdout.write(`results: bench/results/latest.json\n`);
  return results.some((r) => r.errors.length > 0) ? 1 : 0;
}

process.exitCode = await main();

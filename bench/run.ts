/**
 * gridline benchmarks: each figure measured side by side with the raw building block it sits on
 * (../shared/design/PERFORMANCE.md), medians of several repetitions, peak RSS of every process.
 *
 *   npm run bench                         all benchmarks
 *   npm run bench -- --quick              fewer items and repetitions (a smoke run)
 *   npm run bench -- --only pipeline-ocr  one benchmark (repeatable, or comma-separated)
 *
 * Environment: REDIS_URL (default redis://127.0.0.1:6379); BENCH_TIMEOUT_S overrides each
 * benchmark's time limit; BENCH_KEEP_TMP=1 keeps the temp folders (cluster logs, sink files);
 * GRIDLINE_LOG_LEVEL=debug makes workers log each model batch with its time.
 *
 * Each side runs in a child process of its own under a time limit. The table is printed, and
 * the results are written to bench/results/latest.json. Exits non-zero when a benchmark failed
 * to run; a missed target is reported, not an error.
 */
import { hostname, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { BENCHES } from './benches.js';
import { formatResults, median, selfPeakRssBytes, writeResults, type BenchDefinition, type BenchOptions, type BenchResult, type SideName, type SideResult } from './harness.js';
import { SideProcess } from './run-side.js';

const RESULTS = new URL('./results/latest.json', import.meta.url);
const SIDE_ORDER: readonly SideName[] = ['baseline', 'gridline'];

/**
 * One benchmark: both sides set up in their own processes, then their repetitions interleaved
 * (baseline, gridline / gridline, baseline / ...) so that noise on a shared machine falls on both,
 * then each side's summary. A side that fails is reported; the other goes on.
 */
async function runBench(bench: BenchDefinition, options: BenchOptions): Promise<BenchResult> {
  process.stderr.write(`[bench] ${bench.name}: ${bench.description}${options.quick ? ' (quick)' : ''}\n`);
  const errors: { side: SideName; message: string }[] = [];
  const procs = new Map<SideName, SideProcess>();
  const sides = SIDE_ORDER.filter((s) => bench.sides[s] !== undefined);
  const fail = async (side: SideName, err: unknown): Promise<void> => {
    errors.push({ side, message: (err as Error).message });
    process.stderr.write(`[bench] ${bench.name}/${side}: ${(err as Error).message}\n`);
    await procs.get(side)?.kill();
    procs.delete(side);
  };
  let timedOut = false;
  // BENCH_TIMEOUT_S overrides every benchmark's limit (to try the timeout path, or on a slow machine).
  const limitMs = Number(process.env.BENCH_TIMEOUT_S ?? '') * 1000 || bench.timeoutMs(options);
  const timer = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`[bench] ${bench.name}: over its ${Math.round(limitMs / 1000)} s limit, stopping it\n`);
    for (const p of procs.values()) void p.kill();
  }, limitMs);
  const results = new Map<SideName, SideResult>();
  try {
    for (const side of sides) {
      try {
        procs.set(side, await SideProcess.start(bench.name, side, options));
      } catch (err) {
        await fail(side, err);
      }
    }
    const { warmup, reps } = bench.rounds(options);
    const figures = new Map<SideName, number[]>(sides.map((s) => [s, []]));
    for (let round = 0; round < warmup + reps; round++) {
      const warm = round < warmup;
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const p = procs.get(side);
        if (p === undefined || timedOut) continue;
        try {
          const figure = await p.rep(round, warm);
          if (!warm) figures.get(side)!.push(figure);
        } catch (err) {
          await fail(side, err);
        }
      }
    }
    for (const side of sides) {
      const p = procs.get(side);
      if (p === undefined) continue;
      try {
        const { summary, wallMs } = await p.finish();
        const repFigures = summary.reps ?? figures.get(side)!;
        results.set(side, { ...summary, side, reps: repFigures, median: median(repFigures), wallMs: Math.round(wallMs) });
      } catch (err) {
        await fail(side, err);
      }
    }
  } finally {
    clearTimeout(timer);
    for (const p of procs.values()) await p.kill();
  }
  if (timedOut) errors.push({ side: sides[sides.length - 1] ?? 'gridline', message: `stopped after the ${Math.round(limitMs / 1000)} s limit` });
  const baseline = results.get('baseline') ?? null;
  const gridline = results.get('gridline') ?? null;
  let ratio: number | null = null;
  if (baseline !== null && gridline !== null && baseline.median > 0 && gridline.median > 0) {
    ratio = gridline.higherIsBetter ? gridline.median / baseline.median : baseline.median / gridline.median;
  }
  const targetMet = errors.length > 0 ? null : bench.target.check({ ratio, gridline });
  return { name: bench.name, description: bench.description, target: bench.target.text, baseline, gridline, ratio, targetMet, errors };
}

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
  for (const entry of selected) results.push(await runBench(await entry.load(), options));

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

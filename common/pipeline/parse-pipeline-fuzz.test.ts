import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { isGridlineError } from '../errors.js';
import { FuzzTally } from '../fuzz-tally.js';
import { parseWorkload } from './parse-pipeline.js';
import { MAX_ALIAS_COUNT, MAX_DOCUMENT_BYTES, MAX_NESTING_DEPTH } from './pipeline-limits.js';

// Whatever text a user submits, parseWorkload returns a spec or throws INVALID_PIPELINE (or
// another GridlineError) whose issues name the problem; never a TypeError, a RangeError, a
// process abort or a hang. Each property counts its cases by kind and outcome.
const tally = new FuzzTally('pipeline parser+validator (parseWorkload)');
afterAll(() => tally.print());

const PIPELINES_DIR = new URL('../../pipelines/', import.meta.url);
const SEEDS: readonly { name: string; text: string }[] = readdirSync(PIPELINES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ name: f, text: readFileSync(new URL(f, PIPELINES_DIR), 'utf8') }));

/** Parses `text`; records the outcome under `kind`; returns the error message ('' when valid). */
function check(kind: string, text: string, options: Parameters<typeof parseWorkload>[1] = {}): string {
  try {
    parseWorkload(text, options);
    tally.record(kind, 'ok');
    return '';
  } catch (err) {
    tally.record(kind, isGridlineError(err) ? err.code : `untyped ${(err as Error)?.name}`);
    expect(isGridlineError(err), `untyped error for ${kind}: ${String(err)}`).toBe(true);
    if (!isGridlineError(err)) return '';
    expect(err.code).toBe('INVALID_PIPELINE');
    const issues = (err.details as { issues?: { message: string }[] } | undefined)?.issues ?? [];
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(0);
    return err.message;
  }
}

type Path = readonly (string | number)[];

function pathsOf(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  return out;
}

type Mutation = { readonly op: 'replace' | 'remove' | 'add'; readonly pick: number; readonly value: unknown; readonly key: string };

/** A deep copy of `root` with one part replaced, removed, or (in a map) one field added. */
function mutate(root: unknown, m: Mutation): unknown {
  const copy: unknown = structuredClone(root);
  const paths = pathsOf(copy);
  const path = paths[m.pick % paths.length]!;
  if (path.length === 0) return m.op === 'replace' ? m.value : copy;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  const target = parent[key];
  if (m.op === 'remove') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (m.op === 'add' && typeof target === 'object' && target !== null && !Array.isArray(target)) {
    (target as Record<string, unknown>)[m.key] = m.value;
  } else parent[key] = m.value;
  return copy;
}

const seedArb = fc.constantFrom(...SEEDS);
const wrongValue = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, '', 'x', '0', '-1', '1e999', 'NaN', '.inf', [], {}, [[]], { a: {} }, 'Pipeline', 'ModelDeployment', '1Gi', '-5Gi', '1e30'),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
);
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('replace', 'remove', 'add'),
  pick: fc.nat(),
  value: wrongValue,
  key: fc.oneof(fc.constantFrom('after', 'unknown', 'replica', 'stage', '__proto__', 'constructor', 'toString', ''), fc.string({ maxLength: 8 })),
});

function serialize(value: unknown, asJson: boolean): string {
  return asJson ? JSON.stringify(value) ?? 'null' : stringifyYaml(value);
}

describe('parseWorkload under bad input', () => {
  it('random text (printable, binary and YAML punctuation)', () => {
    const punctuation = fc.array(fc.constantFrom('[', ']', '{', '}', ':', '- ', '&a ', '*a', '!!', '? ', '|', '>', '#', '"', "'", '\n', '  ', ',', '%YAML 1.2\n', '---\n', '...\n', '<<: ', 'kind', 'Pipeline', 'a'), { maxLength: 60 }).map((parts) => parts.join(''));
    const arb = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), punctuation);
    fc.assert(fc.property(arb, fc.constantFrom('auto', 'yaml', 'json') as fc.Arbitrary<'auto' | 'yaml' | 'json'>, (text, format) => {
      check('random text', text, { format });
    }), { numRuns: 1500 });
  });

  it('random JSON values, as JSON and as YAML', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (value, asJson) => {
      check('random JSON/YAML value', serialize(value, asJson));
    }), { numRuns: 800 });
  });

  it('pipelines/*.yaml with one part replaced by a wrong type, removed, or an unknown field added', () => {
    // An unknown field at the top of the spec is named as such.
    expect(check('unknown field', SEEDS[0]!.text.replace('spec:', 'spek: 1\nspec:'))).toMatch(/unknown field `spek`/);
    fc.assert(fc.property(seedArb, mutationArb, fc.boolean(), (seed, m, asJson) => {
      const mutated = mutate(parseYaml(seed.text), m);
      const kind = m.op === 'add' ? 'unknown field' : m.op === 'remove' ? 'missing part' : 'wrong type/value';
      check(kind, serialize(mutated, asJson), { sourceName: asJson ? 'p.json' : seed.name });
    }), { numRuns: 2000 });
  });

  it('pipelines/*.yaml with their text cut, spliced or duplicated', () => {
    const edit = fc.record({ at: fc.nat(), len: fc.nat({ max: 40 }), insert: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('\t', ':', '- ', '[', '{', '&x', '*x', '"', '\u0000', '\uFEFF')), repeat: fc.nat({ max: 3 }) });
    fc.assert(fc.property(seedArb, edit, (seed, e) => {
      const at = e.at % (seed.text.length + 1);
      const removed = seed.text.slice(at, at + e.len);
      const text = seed.text.slice(0, at) + e.insert + removed.repeat(e.repeat) + seed.text.slice(at + e.len);
      check('text mutation', text, { sourceName: seed.name });
    }), { numRuns: 1500 });
  });

  it('alias bombs (billion laughs) of every width and depth', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.boolean(), (width, levels, inPipeline) => {
      const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(',')}]`];
      for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(',')}]`);
      const text = inPipeline
        ? `apiVersion: gridline/v1\nkind: Pipeline\nmetadata: { name: bomb, labels: { x: *l${levels - 1} } }\nx:\n${lines.map((l) => `  ${l}`).join('\n')}\n`
        : lines.join('\n');
      const expansions = width * (width ** (levels - 1) - 1) / (width - 1);
      const message = check('alias bomb', text);
      if (expansions > MAX_ALIAS_COUNT * 4) expect(message).toMatch(/aliases expand too much|unknown field|alias/);
    }), { numRuns: 300 });
  });

  it('self-referencing aliases and stage data-flow cycles', () => {
    const cyclic = fc.constantFrom(
      'a: &a [*a]', 'a: &a {b: *a}', '&a [*a, *a]', 'a: *a', 'a: &a\n  b: *a',
      `apiVersion: gridline/v1\nkind: Pipeline\nmetadata: &m { name: x, labels: *m }\nspec: {}`,
    );
    const flow = fc.integer({ min: 2, max: 6 }).map((n) => {
      // Each stage reads the field the next one writes: the data flows backwards, a cycle.
      const stages = Array.from({ length: n }, (_, i) => `    - name: s${i}\n      type: preprocessing\n      after: [s${(i + 1) % n}]\n      ops:\n        - image.resize: { from: f${(i + 1) % n}, to: f${i} }`);
      return `apiVersion: gridline/v1\nkind: Pipeline\nmetadata: { name: cyc }\nspec:\n  source: { kind: files, path: ./d }\n  stages:\n${stages.join('\n')}\n  sink: { kind: jsonl, path: ./o.jsonl }\n`;
    });
    fc.assert(fc.property(fc.oneof(cyclic, flow), (text) => {
      expect(check('cycle', text)).not.toBe('');
    }), { numRuns: 200 });
  });

  it('deep nesting, up to 10,000 levels of [ { - and indentation, in every format', () => {
    // Regression: this pair aborted the process (V8 "RegExpCompiler Allocation failed") when the
    // YAML composer recursed to the stack limit; now both are refused before composing.
    expect(check('deep nesting', `${'['.repeat(1000)}${']'.repeat(1000)}`)).toMatch(/nested too deeply: more than 64 levels/);
    expect(check('deep nesting', `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`)).toMatch(/^<pipeline>:1:\d+ \(document\): the document is nested too deeply/);
    const shapes = ['[', '{', '{"a":', '- ', 'indent', '[{', 'a: '] as const;
    fc.assert(fc.property(fc.constantFrom(...shapes), fc.integer({ min: MAX_NESTING_DEPTH - 2, max: 10_000 }), fc.constantFrom('auto', 'yaml', 'json') as fc.Arbitrary<'auto' | 'yaml' | 'json'>, fc.boolean(), (shape, depth, format, closed) => {
      let text: string;
      if (shape === 'indent') text = Array.from({ length: Math.min(depth, 1400) }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1';
      else if (shape === '- ') text = `${'- '.repeat(depth)}1`;
      else if (shape === 'a: ') text = `spec: ${'{a: '.repeat(depth)}1${closed ? '}'.repeat(depth) : ''}`;
      else {
        const close = shape === '[' ? ']' : shape === '[{' ? '}]' : '}';
        text = shape.repeat(depth) + (shape === '{"a":' ? '1' : shape === '{' ? '' : '') + (closed ? close.repeat(depth) : '');
      }
      const message = check('deep nesting', text, { format });
      if (depth > MAX_NESTING_DEPTH + 2 && shape !== 'indent') expect(message).toMatch(/nested too deeply|invalid|expected/);
    }), { numRuns: 150 });
  });

  it('documents over the size limit', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 64 * 1024 }), fc.constantFrom('a', 'é', '[', '\n'), (extra, unit) => {
      const size = MAX_DOCUMENT_BYTES + extra;
      const text = `kind: Pipeline\nx: ${unit.repeat(Math.ceil(size / Buffer.byteLength(unit)))}`;
      expect(check('huge document', text)).toMatch(/document too large/);
    }), { numRuns: 40 });
  });
});

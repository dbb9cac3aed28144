import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OP_DECLARATIONS } from '../ops/declarations.js';
import { pipelineJsonSchema } from './pipeline-json-schema.js';

const README = readFileSync(new URL('../../pipelines/README.md', import.meta.url), 'utf8');

/** Every property name anywhere in a JSON Schema. */
function propertyNames(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) {
    for (const s of schema) propertyNames(s, into);
  } else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'properties' && value !== null && typeof value === 'object') for (const name of Object.keys(value)) into.add(name);
      propertyNames(value, into);
    }
  }
  return into;
}

describe('pipelines/README.md', () => {
  it('documents every field of the schema', () => {
    // As a segment of a backticked path: `metadata.name`, `resources.cpu`, `spec`.
    const documented = (name: string) => new RegExp(`\`([\\w$]+\\.)*${name.replace(/[$.]/g, '\\$&')}(\\.[\\w$]+)*\``).test(README);
    const missing = [...propertyNames(pipelineJsonSchema())].filter((name) => !documented(name));
    expect(missing).toEqual([]);
  });

  it('documents every op and its params', () => {
    for (const d of OP_DECLARATIONS) {
      const row = README.split('\n').find((line) => line.startsWith(`| \`${d.name}\``));
      expect(row, d.name).toBeDefined();
      for (const param of Object.keys(d.params.shape)) expect(row, `${d.name}.${param}`).toContain(`\`${param}\``);
    }
  });
});

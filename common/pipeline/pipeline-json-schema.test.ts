import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { opNames } from '../ops/declarations.js';
import { DEPLOYMENT_JSON_SCHEMA_PATH, PIPELINE_JSON_SCHEMA_PATH, deploymentJsonSchemaText, pipelineJsonSchema, pipelineJsonSchemaText } from './pipeline-json-schema.js';

describe('pipelines/pipeline.schema.json', () => {
  it('matches the zod schema (regenerate: node --import tsx scripts/gen-pipeline-schema.ts)', () => {
    const committed = readFileSync(new URL(`../../${PIPELINE_JSON_SCHEMA_PATH}`, import.meta.url), 'utf8');
    const fresh = pipelineJsonSchemaText();
    if (committed !== fresh) {
      expect.fail(`${PIPELINE_JSON_SCHEMA_PATH} is stale: run \`node --import tsx scripts/gen-pipeline-schema.ts\` and commit the result`);
    }
  });

  it('the model deployment schema is fresh too', () => {
    const committed = readFileSync(new URL(`../../${DEPLOYMENT_JSON_SCHEMA_PATH}`, import.meta.url), 'utf8');
    if (committed !== deploymentJsonSchemaText()) {
      expect.fail(`${DEPLOYMENT_JSON_SCHEMA_PATH} is stale: run \`node --import tsx scripts/gen-pipeline-schema.ts\` and commit the result`);
    }
  });

  it('describes ops as a oneOf over the declared ops, and shows defaults', () => {
    const schema = pipelineJsonSchema() as { $defs: { Op: { oneOf: { enum?: string[]; required?: string[] }[] } } };
    const variants = schema.$defs.Op.oneOf;
    expect(variants[0]?.enum).toEqual(opNames());
    expect(variants.slice(1).map((v) => v.required?.[0])).toEqual(opNames());
    const text = pipelineJsonSchemaText();
    expect(text).toContain('"default": "256Mi"');
    expect(text).toContain('"default": "1Gi"');
    expect(text).toContain('"default": "8Mi"');
  });
});

import { z } from 'zod';
import { deploymentDocumentSchema } from './deployment-document-schema.js';
import { pipelineDocumentJsonSchema } from './pipeline-document-schema.js';

/** Where scripts/gen-pipeline-schema.ts writes the schema, relative to the repository root. */
export const PIPELINE_JSON_SCHEMA_PATH = 'pipelines/pipeline.schema.json';
export const DEPLOYMENT_JSON_SCHEMA_PATH = 'pipelines/model-deployment.schema.json';

/**
 * The published JSON Schema of pipeline documents, from the zod schema's input side: fields
 * with defaults are optional and show their default. Quantities accept the string or number form.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(pipelineDocumentJsonSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** The exact text of the committed file, so a test can tell when it is stale. */
export function pipelineJsonSchemaText(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}

/** The published JSON Schema of `kind: ModelDeployment` documents. */
export function deploymentJsonSchemaText(): string {
  return `${JSON.stringify(z.toJSONSchema(deploymentDocumentSchema, { io: 'input', target: 'draft-2020-12' }), null, 2)}\n`;
}

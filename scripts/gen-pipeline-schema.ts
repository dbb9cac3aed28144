// Writes pipelines/pipeline.schema.json and pipelines/model-deployment.schema.json from the zod schema in common/pipeline.
// Run after changing the schema or an op's params: node --import tsx scripts/gen-pipeline-schema.ts
import { writeFile } from 'node:fs/promises';
import { DEPLOYMENT_JSON_SCHEMA_PATH, PIPELINE_JSON_SCHEMA_PATH, deploymentJsonSchemaText, pipelineJsonSchemaText } from '../common/pipeline/pipeline-json-schema.js';

for (const [path, text] of [[PIPELINE_JSON_SCHEMA_PATH, pipelineJsonSchemaText()], [DEPLOYMENT_JSON_SCHEMA_PATH, deploymentJsonSchemaText()]] as const) {
  await writeFile(new URL(`../${path}`, import.meta.url), text);
  console.log(`wrote ${path}`);
}

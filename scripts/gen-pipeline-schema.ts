// Writes pipelines/pipeline.schema.json from the zod schema in common/pipeline.
// Run after changing the schema or an op's params: node --import tsx scripts/gen-pipeline-schema.ts
import { writeFile } from 'node:fs/promises';
import { PIPELINE_JSON_SCHEMA_PATH, pipelineJsonSchemaText } from '../common/pipeline/pipeline-json-schema.js';

const target = new URL(`../${PIPELINE_JSON_SCHEMA_PATH}`, import.meta.url);
await writeFile(target, pipelineJsonSchemaText());
console.log(`wrote ${PIPELINE_JSON_SCHEMA_PATH}`);

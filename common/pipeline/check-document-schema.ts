import { pipelineDocumentSchema } from './pipeline-document-schema.js';
import type { PipelineDocument } from './pipeline-document-schema.js';
import { checkWithZod } from './zod-issues.js';
import type { ZodCheckResult } from './zod-issues.js';

/** Pass 2: the document's shape, types, quantities and op params; every issue at once. */
export function checkDocumentSchema(value: unknown): ZodCheckResult<PipelineDocument> {
  return checkWithZod(pipelineDocumentSchema, value);
}

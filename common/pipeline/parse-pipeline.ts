import { checkDocumentSchema } from './check-document-schema.js';
import { checkPipelineGraph } from './check-pipeline-graph.js';
import { normalizePipeline } from './normalize-pipeline.js';
import { DEFAULT_SOURCE_NAME, invalidPipelineError, locateIssues } from './pipeline-issues.js';
import { readDocument } from './read-document.js';
import type { DocumentFormat } from './read-document.js';
import type { PipelineIssue, PipelineSpec } from './types.js';

export interface ParsePipelineOptions {
  /** `auto` (default): by sourceName's extension, else JSON when the text starts with `{`. */
  readonly format?: DocumentFormat;
  /** Names the document in messages (a file path, "request body"). */
  readonly sourceName?: string;
}

export type PipelineValidation =
  | { readonly ok: true; readonly spec: PipelineSpec }
  | { readonly ok: false; readonly issues: readonly PipelineIssue[] };

/**
 * Syntax -> schema -> normalize -> graph check. A pass runs only on what the one before it
 * accepted, and each reports every problem it finds.
 */
export function validatePipeline(text: string, options: ParsePipelineOptions = {}): PipelineValidation {
  const read = readDocument(text, options.format ?? 'auto', options.sourceName);
  if (!read.ok) return { ok: false, issues: read.issues };
  const checked = checkDocumentSchema(read.value);
  if (!checked.ok) return { ok: false, issues: locateIssues(checked.issues, read.locate) };
  const spec = normalizePipeline(checked.data);
  const graphIssues = checkPipelineGraph(spec);
  if (graphIssues.length > 0) return { ok: false, issues: locateIssues(graphIssues, read.locate) };
  return { ok: true, spec };
}

/**
 * Parses a pipeline document (YAML or JSON text) into the validated, frozen PipelineSpec.
 * Throws GridlineError INVALID_PIPELINE listing every issue, one per line as
 * `sourceName:line:col path: message`; `details.issues` holds them as PipelineIssue[].
 */
export function parsePipeline(text: string, options: ParsePipelineOptions = {}): PipelineSpec {
  const result = validatePipeline(text, options);
  if (result.ok) return result.spec;
  throw invalidPipelineError(result.issues, options.sourceName ?? DEFAULT_SOURCE_NAME);
}

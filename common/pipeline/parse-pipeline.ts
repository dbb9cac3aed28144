import { checkDocumentSchema } from './check-document-schema.js';
import { runtimeMismatch } from './check-model-runtime.js';
import { checkPipelineGraph } from './check-pipeline-graph.js';
import { deploymentDocumentSchema } from './deployment-document-schema.js';
import { describeValue } from './describe-value.js';
import { normalizeDeployment } from './normalize-deployment.js';
import { normalizePipeline } from './normalize-pipeline.js';
import { DEFAULT_SOURCE_NAME, invalidPipelineError, locateIssues, type RawIssue } from './pipeline-issues.js';
import { readDocument } from './read-document.js';
import { NO_SOURCE_POSITIONS } from './source-locator.js';
import type { DocumentFormat } from './read-document.js';
import type { PipelineIssue, PipelineSpec } from './types.js';
import { WORKLOAD_KINDS, type WorkloadSpec } from './workload.js';
import { checkWithZod } from './zod-issues.js';

export interface ParsePipelineOptions {
  /** `auto` (default): by sourceName's extension, else JSON when the text starts with `{`. */
  readonly format?: DocumentFormat;
  /** Names the document in messages (a file path, "request body"). */
  readonly sourceName?: string;
}

export type PipelineValidation =
  | { readonly ok: true; readonly spec: PipelineSpec }
  | { readonly ok: false; readonly issues: readonly PipelineIssue[] };

export type WorkloadValidation =
  | { readonly ok: true; readonly spec: WorkloadSpec }
  | { readonly ok: false; readonly issues: readonly PipelineIssue[] };

/**
 * Syntax -> schema -> normalize -> graph check. A pass runs only on what the one before it
 * accepted, and each reports every problem it finds.
 */
export function validatePipeline(text: string, options: ParsePipelineOptions = {}): PipelineValidation {
  const result = validateWorkload(text, options);
  if (!result.ok || result.spec.kind === 'Pipeline') return result as PipelineValidation;
  return { ok: false, issues: [{ path: 'kind', line: null, column: null, message: 'expected a Pipeline, got a ModelDeployment' }] };
}

/** Like validatePipeline, for either kind of document (`kind: Pipeline` or `kind: ModelDeployment`). */
export function validateWorkload(text: string, options: ParsePipelineOptions = {}): WorkloadValidation {
  const read = readDocument(text, options.format ?? 'auto', options.sourceName);
  if (!read.ok) return { ok: false, issues: read.issues };
  const kind = typeof read.value === 'object' && read.value !== null ? (read.value as { kind?: unknown }).kind : undefined;
  if (kind === 'ModelDeployment') {
    const checked = checkWithZod(deploymentDocumentSchema, read.value);
    if (!checked.ok) return { ok: false, issues: locateIssues(checked.issues, read.locate) };
    const spec = normalizeDeployment(checked.data);
    const mismatch = runtimeMismatch(spec.model.runtime, spec.model.uri);
    if (mismatch !== null) return { ok: false, issues: locateIssues([{ path: ['spec', 'model', 'runtime'], message: mismatch }], read.locate) };
    return { ok: true, spec };
  }
  if (kind !== undefined && kind !== 'Pipeline') {
    return { ok: false, issues: locateIssues([{ path: ['kind'], message: `unknown kind ${describeValue(kind)}: expected one of ${WORKLOAD_KINDS.join(', ')}` }], read.locate) };
  }
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

/** parsePipeline for either kind: a Pipeline or a ModelDeployment, by the document's `kind`. */
export function parseWorkload(text: string, options: ParsePipelineOptions = {}): WorkloadSpec {
  const result = validateWorkload(text, options);
  if (result.ok) return result.spec;
  throw invalidPipelineError(result.issues, options.sourceName ?? DEFAULT_SOURCE_NAME);
}

/**
 * Positions issues found after parsing (by a check outside this module, such as the coordinator's
 * allowed directories) in the document text they came from, like validation issues.
 */
export function locateWorkloadIssues(text: string, raw: readonly RawIssue[], options: ParsePipelineOptions = {}): PipelineIssue[] {
  const read = readDocument(text, options.format ?? 'auto', options.sourceName);
  return locateIssues(raw, read.ok ? read.locate : NO_SOURCE_POSITIONS);
}

import { GridlineError } from '../errors.js';
import { formatIssuePath } from './issue-path.js';
import type { IssuePath } from './issue-path.js';
import type { SourceLocator } from './source-locator.js';
import type { PipelineIssue } from './types.js';

/** An issue as a pass finds it: a path and a message; the position is looked up afterwards. */
export interface RawIssue {
  readonly path: IssuePath;
  readonly message: string;
  /** Point at the key rather than the value (an unknown field is the key itself). */
  readonly at?: 'key';
}

export const DEFAULT_SOURCE_NAME = '<pipeline>';

/** Issues beyond this many are counted, not listed, in the error message (details keep them all). */
const MAX_LISTED = 50;

/** Adds positions and sorts by them, so issues read top to bottom like the file. */
export function locateIssues(raw: readonly RawIssue[], locate: SourceLocator): PipelineIssue[] {
  const issues = raw.map((issue): PipelineIssue => {
    const at = locate(issue.path, issue.at ?? 'value');
    return { path: formatIssuePath(issue.path), line: at?.line ?? null, column: at?.column ?? null, message: issue.message };
  });
  // Array#sort is stable: issues at one position keep the order their pass found them in.
  return issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
}

/** One line per issue: `sourceName:line:col path: message`. */
export function formatPipelineIssues(issues: readonly PipelineIssue[], sourceName: string = DEFAULT_SOURCE_NAME): string {
  const lines = issues.slice(0, MAX_LISTED).map((issue) => {
    const where = issue.line === null ? sourceName : `${sourceName}:${issue.line}:${issue.column ?? 1}`;
    return `${where} ${issue.path === '' ? '(document)' : issue.path}: ${issue.message}`;
  });
  if (issues.length > MAX_LISTED) lines.push(`... and ${issues.length - MAX_LISTED} more`);
  return lines.join('\n');
}

export function invalidPipelineError(issues: readonly PipelineIssue[], sourceName: string = DEFAULT_SOURCE_NAME): GridlineError {
  return new GridlineError('INVALID_PIPELINE', formatPipelineIssues(issues, sourceName), {
    retryable: false,
    details: { issues },
  });
}

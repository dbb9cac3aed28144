import { realpathSync } from 'node:fs';
import { judgePath, outsideMessage } from '../../common/allowed-dirs.js';
import { GridlineError } from '../../common/errors.js';
import { locateWorkloadIssues, type ParsePipelineOptions } from '../../common/pipeline/parse-pipeline.js';
import { DEFAULT_SOURCE_NAME, formatPipelineIssues, type RawIssue } from '../../common/pipeline/pipeline-issues.js';
import type { WorkloadSpec } from '../../common/pipeline/workload.js';
import { workloadPaths, type PathUse } from '../../common/pipeline/workload-paths.js';

const USE: Record<PathUse, string> = { read: 'path', write: 'output path', module: 'op module' };

/**
 * Refuses a workload that reads, writes or loads code outside the coordinator's allowed
 * directories, before anything is planned: PERMISSION_DENIED listing each such path with its
 * place in the document (`details.issues`, like INVALID_PIPELINE) and the allowed directories.
 * Symlinks are resolved, so a link inside an allowed folder cannot point out of it; workers check
 * again where they open the files.
 */
export function checkWorkloadPaths(spec: WorkloadSpec, text: string, options: ParsePipelineOptions, allowedDirs: readonly string[], cwd = process.cwd()): void {
  const raw: RawIssue[] = [];
  for (const { at, path, use } of workloadPaths(spec)) {
    const verdict = judgePath(path, allowedDirs, cwd, realpathSync.native);
    if (verdict.allowed) continue;
    raw.push({ path: at, message: `${USE[use]} ${outsideMessage(path, verdict, allowedDirs, cwd)}; an operator allows a directory with --allow-dir (GRIDLINE_ALLOW_DIRS)` });
  }
  if (raw.length === 0) return;
  const issues = locateWorkloadIssues(text, raw, options);
  throw new GridlineError('PERMISSION_DENIED', formatPipelineIssues(issues, options.sourceName ?? DEFAULT_SOURCE_NAME), {
    details: { issues, allowedDirs },
  });
}

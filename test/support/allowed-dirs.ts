import { tmpdir } from 'node:os';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What tests let pipelines touch: the repository (pipelines/, its sample data) and the system temp
 * folder (each test's own mkdtemp). In-process coordinators take it as `allowedDirs`; processes
 * started by startProcess get it as GRIDLINE_ALLOW_DIRS.
 */
export const TEST_ALLOWED_DIRS: readonly string[] = [fileURLToPath(new URL('../..', import.meta.url)), tmpdir()];

export const TEST_ALLOW_DIRS_ENV = TEST_ALLOWED_DIRS.join(delimiter);

import { parseDirList } from '../common/allowed-dirs.js';

/** The repeatable flag's values, else the environment variable's list (path-delimiter separated), else undefined: the command's default. */
export function dirsOption(flags: readonly string[] | undefined, envName: string): string[] | undefined {
  if (flags !== undefined && flags.length > 0) return [...flags];
  const fromEnv = parseDirList(process.env[envName]);
  return fromEnv.length > 0 ? fromEnv : undefined;
}

export const ALLOW_DIRS_ENV = 'GRIDLINE_ALLOW_DIRS';
export const OP_MODULE_DIRS_ENV = 'GRIDLINE_OP_MODULE_DIRS';

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GridlineError } from '../../common/errors.js';
import type { ModelBatchingOptions, ServedModelSpec } from './served-model-spec.js';

/** The file a version folder must hold. */
export const MODEL_FILE = 'model.onnx';

export interface ModelRepositoryOptions {
  /** Applied to every model found. */
  readonly batching?: ModelBatchingOptions;
  readonly useGpu?: boolean;
}

export interface SkippedModel {
  readonly name: string;
  readonly reason: string;
}

export interface ModelRepository {
  /** One spec per model, at its highest version, sorted by name. */
  readonly models: readonly ServedModelSpec[];
  /** Model folders that hold no usable version, with why. */
  readonly skipped: readonly SkippedModel[];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads a Triton-style model repository: `<repo>/<model>/<version>/model.onnx`, versions being
 * positive integers. Each model is served at its highest version holding a model file; folders
 * and files that fit no such pattern (dot files, `config.pbtxt`, a `latest` folder) are ignored.
 * Symbolic links are followed. Throws MODEL_LOAD_FAILED when the repository cannot be read.
 */
export async function readModelRepository(repo: string, options: ModelRepositoryOptions = {}): Promise<ModelRepository> {
  let names: string[];
  try {
    names = (await readdir(repo)).sort();
  } catch (err) {
    throw new GridlineError('MODEL_LOAD_FAILED', `cannot read the model repository ${repo}: ${(err as Error).message}`, { cause: err, details: { repo } });
  }
  const models: ServedModelSpec[] = [];
  const skipped: SkippedModel[] = [];
  for (const name of names) {
    const dir = join(repo, name);
    if (name.startsWith('.') || !(await isDirectory(dir))) continue;
    const versions = (await readdir(dir))
      .filter((v) => /^[1-9]\d{0,15}$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    let chosen: string | undefined;
    for (const version of versions) {
      if (await isFile(join(dir, version, MODEL_FILE))) {
        chosen = version;
        break;
      }
    }
    if (chosen === undefined) {
      skipped.push({ name, reason: `no version folder (a positive integer) holding ${MODEL_FILE} in ${dir}` });
      continue;
    }
    models.push({
      name,
      version: chosen,
      uri: pathToFileURL(join(dir, chosen, MODEL_FILE)).href,
      ...(options.batching === undefined ? {} : { batching: options.batching }),
      ...(options.useGpu === undefined ? {} : { useGpu: options.useGpu }),
    });
  }
  return { models, skipped };
}

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { GridlineError } from '../../common/errors.js';
import type { ModelBatchingOptions, ServedModelSpec } from './served-model-spec.js';

/** The file a version folder must hold. */
/** The model files a version folder may hold, in the order they are looked for: ONNX, then a TF.js graph model. */
export const MODEL_FILES: readonly string[] = ['model.onnx', 'model.json'];

/**
 * Optional per-model settings beside the version folders: `<repo>/<model>/config.json`, e.g.
 * `{ "batching": { "maxBatchSize": 1 } }` to turn dynamic batching off for that model. Its
 * batching fields go over the repository-wide ones; ranges are checked when the model loads.
 */
export const MODEL_CONFIG_FILE = 'config.json';

const batchDim = z.strictObject({ batchDim: z.number().int().nullable() });
const modelConfigSchema = z.strictObject({
  batching: z.strictObject({
    maxBatchSize: z.number(),
    maxQueueDelayMs: z.number(),
    preferredBatchSizes: z.array(z.number()),
    priorityLevels: z.number(),
    defaultPriority: z.number(),
    maxQueueSize: z.number(),
    defaultTimeoutMs: z.number(),
    maxInflightBatches: z.number(),
    inputs: z.record(z.string(), batchDim),
    outputs: z.record(z.string(), batchDim),
  }).partial().optional(),
});

type ModelConfig = z.infer<typeof modelConfigSchema>;

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

/** A model folder's config.json: null when there is none, a reason string when it is unusable. */
async function readModelConfig(dir: string): Promise<ModelConfig | null | string> {
  const path = join(dir, MODEL_CONFIG_FILE);
  if (!(await isFile(path))) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    return `${path} is not readable JSON: ${(err as Error).message}`;
  }
  const parsed = modelConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top)'}: ${i.message}`);
  return `${path}: ${problems.join('; ')}`;
}

/**
 * Reads a Triton-style model repository: `<repo>/<model>/<version>/model.onnx` (or `model.json`,
 * a TF.js graph model with its weight files beside it), versions being positive integers. Each model is served at its highest version holding a model file; folders
 * and files that fit no such pattern (dot files, `config.pbtxt`, a `latest` folder) are ignored.
 * A model folder may hold a `config.json` (MODEL_CONFIG_FILE); one that does not parse skips the
 * model with the reason, rather than serving it with settings its owner did not ask for.
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
    let chosen: { version: string; file: string } | undefined;
    for (const version of versions) {
      for (const file of MODEL_FILES) {
        if (chosen === undefined && (await isFile(join(dir, version, file)))) chosen = { version, file };
      }
      if (chosen !== undefined) break;
    }
    if (chosen === undefined) {
      skipped.push({ name, reason: `no version folder (a positive integer) holding ${MODEL_FILES.join(' or ')} in ${dir}` });
      continue;
    }
    const config = await readModelConfig(dir);
    if (typeof config === 'string') {
      skipped.push({ name, reason: config });
      continue;
    }
    const batching = config?.batching === undefined ? options.batching : { ...options.batching, ...config.batching };
    models.push({
      name,
      version: chosen.version,
      uri: pathToFileURL(join(dir, chosen.version, chosen.file)).href,
      ...(batching === undefined ? {} : { batching }),
      ...(options.useGpu === undefined ? {} : { useGpu: options.useGpu }),
    });
  }
  return { models, skipped };
}

import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { GridlineError } from '../../common/errors.js';

type ManifestGroup = io.WeightsManifestConfig[number];

function loadFailed(path: string, why: string, cause?: unknown): GridlineError {
  return new GridlineError('MODEL_LOAD_FAILED', `TF.js model ${path}: ${why}`, { details: { path }, ...(cause === undefined ? {} : { cause }) });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one manifest group's shape; TF.js itself would fail later with a vaguer message. */
function checkGroup(path: string, group: unknown, index: number): ManifestGroup {
  if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights) || !group.paths.every((p) => typeof p === 'string')) {
    throw loadFailed(path, `weightsManifest[${index}] needs "paths" (file names) and "weights"`);
  }
  return group as unknown as ManifestGroup;
}

/**
 * Reads a TF.js graph model (model.json and the weight shards its manifest names) from disk into
 * the artifacts TF.js loads from memory. Nothing goes through fetch, so a model inside an npm
 * package or a mounted folder loads offline. Shard paths must stay inside the model's folder.
 */
export async function readTfjsGraphModel(path: string): Promise<io.ModelArtifacts> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw loadFailed(path, `cannot read it: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw loadFailed(path, `not JSON: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (!isRecord(json) || !isRecord(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    throw loadFailed(path, 'not a TF.js model.json (needs "modelTopology" and "weightsManifest")');
  }
  // Layers (Keras) models need tfjs-layers, which gridline does not ship: say how to convert.
  if (json.format !== 'graph-model' && !Array.isArray(json.modelTopology.node)) {
    throw loadFailed(path, `is a ${typeof json.format === 'string' ? json.format : 'layers model'}, not a graph model; convert it with tensorflowjs_converter --output_format=tfjs_graph_model`);
  }

  const doc = json;
  const topology = json.modelTopology;
  const folder = dirname(path);
  const groups = json.weightsManifest.map((g: unknown, i) => checkGroup(path, g, i));
  const files: string[] = [];
  for (const group of groups) {
    for (const p of group.paths) {
      const file = resolve(folder, p);
      const inside = relative(folder, file);
      if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) throw loadFailed(path, `weight file "${p}" is outside the model's folder`);
      files.push(file);
    }
  }
  let shards: Buffer[];
  try {
    shards = await Promise.all(files.map((f) => readFile(f)));
  } catch (err) {
    throw loadFailed(path, `cannot read a weight file: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  // Groups and their shards are laid end to end, in manifest order, as TF.js's own loaders do.
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const pick = <K extends keyof io.ModelJSON>(key: K): Partial<Pick<io.ModelJSON, K>> =>
    (doc[key] === undefined ? {} : { [key]: doc[key] }) as Partial<Pick<io.ModelJSON, K>>;
  return {
    modelTopology: topology,
    weightSpecs: groups.flatMap((g) => g.weights),
    weightData,
    ...pick('format'),
    ...pick('generatedBy'),
    ...pick('convertedBy'),
    ...pick('signature'),
    ...pick('userDefinedMetadata'),
    ...pick('modelInitializer'),
    ...pick('initializerSignature'),
  };
}

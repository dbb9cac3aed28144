import { extname } from 'node:path';
import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ModelRuntime } from './model-runtime.js';
import { createThreadedOnnxRuntime } from './threaded-runtime.js';

export interface CreateModelRuntimeOptions {
  readonly useGpu: boolean;
  readonly logger: Logger;
  /** onnxruntime intra-op threads per session (default: onnxruntime's, one per core). */
  readonly intraOpThreads?: number;
}

/** The model files createModelRuntime accepts, for messages. */
export const MODEL_KINDS: readonly string[] = ['*.onnx (ONNX, onnxruntime)', 'model.json or *.json (TF.js graph model)'];

/**
 * Loads a model with the runtime its file calls for: `*.onnx` in onnxruntime on its own thread,
 * a TF.js graph model's `*.json` with TF.js. Has the factory signature RuntimeCache takes.
 */
export async function createModelRuntime(path: string, options: CreateModelRuntimeOptions): Promise<ModelRuntime> {
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return createThreadedOnnxRuntime(path, options);
  if (ext === '.json') {
    // Imported on first use: TF.js is large, and nodes serving only ONNX never load it.
    const { createTfjsRuntime } = await import('./tfjs-runtime.js');
    return createTfjsRuntime(path, options);
  }
  throw new GridlineError('MODEL_LOAD_FAILED', `model ${path}: unknown model kind; expected ${MODEL_KINDS.join(' or ')}`, {
    details: { path, accepted: MODEL_KINDS },
  });
}

import { extname } from 'node:path';
import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ModelRuntime } from './model-runtime.js';
import { createThreadedOnnxRuntime, createThreadedTfjsRuntime } from './threaded-runtime.js';

export interface CreateModelRuntimeOptions {
  readonly useGpu: boolean;
  readonly logger: Logger;
  /** onnxruntime intra-op threads per session (default: onnxruntime's, one per core); TF.js ignores it. */
  readonly intraOpThreads?: number;
  /** onnxruntime idle threads spin waiting for work (default yes). */
  readonly spinWait?: boolean;
}

/** The model files createModelRuntime accepts, for messages. */
export const MODEL_KINDS: readonly string[] = ['*.onnx (ONNX, onnxruntime)', 'model.json or *.json (TF.js graph model)'];

/**
 * Loads a model with the runtime its file calls for, each on its own thread: `*.onnx` in
 * onnxruntime, a TF.js graph model's `*.json` in TF.js (only that thread loads TF.js). Has the
 * factory signature RuntimeCache takes.
 */
export async function createModelRuntime(path: string, options: CreateModelRuntimeOptions): Promise<ModelRuntime> {
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return createThreadedOnnxRuntime(path, options);
  if (ext === '.json') return createThreadedTfjsRuntime(path, options);
  throw new GridlineError('MODEL_LOAD_FAILED', `model ${path}: unknown model kind; expected ${MODEL_KINDS.join(' or ')}`, {
    details: { path, accepted: MODEL_KINDS },
  });
}

import { basename, dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GridlineError } from '../../common/errors.js';
import type { ErrorCode } from '../../common/error-codes.js';
import type { Logger } from '../../common/logger.js';
import { tensorFromBytes, type Tensor } from '../../common/tensor.js';
import type { ModelRuntime } from './model-runtime.js';
import {
  wireBuffer, type FromThread, type ThreadInit, type ThreadRuntimeKind, type ToThread, type WireTensor,
} from './onnx-thread-protocol.js';

export interface ThreadedRuntimeOptions {
  readonly useGpu: boolean;
  readonly logger: Logger;
  /** onnxruntime intra-op threads; ignored by TF.js. */
  readonly intraOpThreads?: number;
  /** onnxruntime idle threads spin (default yes); ignored by TF.js. */
  readonly spinWait?: boolean;
  /** Name used in log lines and errors (default: the file name, or the folder's for a TF.js model.json). */
  readonly name?: string;
}

/** An ONNX model session in its own worker thread (see createThreadedRuntime). */
export function createThreadedOnnxRuntime(path: string, options: ThreadedRuntimeOptions): Promise<ModelRuntime> {
  return createThreadedRuntime('onnx', path, options);
}

/**
 * A TF.js graph model in its own worker thread (see createThreadedRuntime). The thread has its
 * own TF.js, so it picks and logs its own backend, whatever other models in the process run on.
 */
export function createThreadedTfjsRuntime(path: string, options: ThreadedRuntimeOptions): Promise<ModelRuntime> {
  return createThreadedRuntime('tfjs', path, options);
}

/** The default name createOnnxRuntime / createTfjsRuntime would give, known here without loading either. */
function defaultName(kind: ThreadRuntimeKind, path: string): string {
  const file = basename(path);
  return kind === 'tfjs' && file === 'model.json' ? `${basename(dirname(path))}/${file}` : file;
}

/**
 * A model session (onnxruntime or TF.js, by kind) in its own worker thread, behind the same
 * ModelRuntime interface. Loading and inference never block the node's event loop, so
 * heartbeats, queue lock renewals and I/O for the next chunk go on while the model computes.
 * Inputs are copied once into the message and outputs are transferred back without a copy.
 */
export async function createThreadedRuntime(kind: ThreadRuntimeKind, path: string, options: ThreadedRuntimeOptions): Promise<ModelRuntime> {
  const name = options.name ?? defaultName(kind, path);
  const init: ThreadInit = {
    kind, path, useGpu: options.useGpu, name,
    ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
    ...(options.spinWait === undefined ? {} : { spinWait: options.spinWait }),
  };
  const worker = new Worker(new URL('./onnx-thread-entry.mjs', import.meta.url), { workerData: init });
  const pending = new Map<number, { resolve: (t: Record<string, Tensor>) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closed = false;
  let exited = false;
  let dead: GridlineError | null = null;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => {
    exited = true;
    resolve();
  }));
  const rejectPending = (error: GridlineError): void => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  const ready = new Promise<{ inputs: ModelRuntime['inputs']; outputs: ModelRuntime['outputs'] }>((resolve, reject) => {
    worker.on('message', (msg: FromThread) => {
      switch (msg.type) {
        case 'ready':
          resolve({ inputs: msg.inputs, outputs: msg.outputs });
          break;
        case 'load-failed':
          reject(new GridlineError(msg.code as ErrorCode, msg.message));
          break;
        case 'result': {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          const out: Record<string, Tensor> = {};
          for (const [k, w] of Object.entries(msg.outputs)) out[k] = fromWire(w);
          p?.resolve(out);
          break;
        }
        case 'error': {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          p?.reject(new GridlineError(msg.code as ErrorCode, msg.message));
          break;
        }
        case 'log':
          options.logger[msg.level](msg.obj, msg.msg);
          break;
        case 'closed':
          break;
      }
    });
    worker.on('error', (err) => {
      dead = new GridlineError('MODEL_ERROR', `model ${name}: its thread crashed: ${err.message}`, { cause: err });
      reject(dead);
      rejectPending(dead);
    });
    worker.on('exit', (code) => {
      dead ??= new GridlineError('MODEL_ERROR', closed ? `model ${name} is closed` : `model ${name}: its thread exited (code ${code})`);
      reject(dead);
      rejectPending(dead);
    });
  });

  let meta: Awaited<typeof ready>;
  try {
    meta = await ready;
  } catch (err) {
    closed = true;
    await worker.terminate();
    throw err;
  }

  return {
    inputs: meta.inputs,
    outputs: meta.outputs,
    run(feeds) {
      if (closed) return Promise.reject(new GridlineError('MODEL_ERROR', `model ${name} is closed`));
      if (dead) return Promise.reject(dead);
      const wire: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [k, t] of Object.entries(feeds)) {
        const buffer = wireBuffer(t);
        wire[k] = { dtype: t.dtype, shape: t.shape, buffer };
        transfer.push(buffer);
      }
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const msg: ToThread = { type: 'run', id, feeds: wire };
        worker.postMessage(msg, transfer);
      });
    },
    healthy: () => !closed && dead === null,
    async close() {
      if (closed) return;
      closed = true;
      // Runs still waiting get an answer now rather than never.
      rejectPending(new GridlineError('MODEL_ERROR', `model ${name} is closed`));
      if (exited) return;
      worker.postMessage({ type: 'close' } satisfies ToThread);
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

function fromWire(w: WireTensor): Tensor {
  return tensorFromBytes(w.dtype, w.shape, new Uint8Array(w.buffer));
}

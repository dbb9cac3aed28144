import { serializeStrings, type DType, type Tensor } from '../../common/tensor.js';
import type { TensorInfo } from './model-runtime.js';

/**
 * A tensor crossing the thread boundary: its bytes move (transfer), they are not copied again.
 * `buffer` holds what tensorFromBytes reads: the raw elements, or length-prefixed strings.
 */
export interface WireTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly buffer: ArrayBuffer;
}

/**
 * A tensor's bytes in a buffer of their own, safe to transfer: a copy, since the tensor may view
 * memory that must not be detached (a request body, Buffer's shared pool, an output still in use).
 */
export function wireBuffer(t: Tensor): ArrayBuffer {
  if (t.dtype === 'string') return serializeStrings(t.data).buffer as ArrayBuffer;
  const copy = new Uint8Array(t.data.byteLength);
  copy.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return copy.buffer;
}

/** Which runtime a model thread hosts: onnxruntime (createOnnxRuntime) or TF.js (createTfjsRuntime). */
export type ThreadRuntimeKind = 'onnx' | 'tfjs';

export interface ThreadInit {
  readonly kind: ThreadRuntimeKind;
  readonly path: string;
  readonly useGpu: boolean;
  /** onnxruntime only; TF.js has no such setting. */
  readonly intraOpThreads?: number;
  /** onnxruntime only: see OnnxRuntimeOptions.spinWait. */
  readonly spinWait?: boolean;
  readonly name: string;
}

export type ToThread =
  | { readonly type: 'run'; readonly id: number; readonly feeds: Readonly<Record<string, WireTensor>> }
  | { readonly type: 'close' };

export type FromThread =
  | { readonly type: 'ready'; readonly inputs: readonly TensorInfo[]; readonly outputs: readonly TensorInfo[] }
  | { readonly type: 'load-failed'; readonly code: string; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Readonly<Record<string, WireTensor>> }
  | { readonly type: 'error'; readonly id: number; readonly code: string; readonly message: string }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly obj: object; readonly msg: string }
  | { readonly type: 'closed' };

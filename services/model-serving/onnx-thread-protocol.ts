import type { DType } from '../../common/tensor.js';
import type { TensorInfo } from './model-runtime.js';

/** A tensor crossing the thread boundary: its bytes move (transfer), they are not copied again. */
export interface WireTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly buffer: ArrayBuffer;
}

export interface ThreadInit {
  readonly path: string;
  readonly useGpu: boolean;
  readonly intraOpThreads?: number;
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

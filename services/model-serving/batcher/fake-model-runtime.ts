import type { Tensor } from '../../../common/tensor.js';
import type { ModelRuntime, TensorInfo } from '../model-runtime.js';

/** A test double for ModelRuntime: records every batch and lets the test decide when runs end. */
export interface FakeRuntime extends ModelRuntime {
  /** The feeds of every run, in call order. */
  readonly runs: Readonly<Record<string, Tensor>>[];
  /** Runs started and not yet finished (manual mode only). */
  readonly waiting: number;
  /** Finishes the oldest waiting run: with its outputs, or with `error`. False when none waits. */
  finishNext(error?: Error): boolean;
}

export interface FakeRuntimeOptions {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Outputs of one run; may throw to fail it. */
  readonly compute: (feeds: Readonly<Record<string, Tensor>>) => Record<string, Tensor>;
  /** Runs wait for finishNext instead of finishing on their own. */
  readonly manual?: boolean;
}

export function createFakeRuntime(options: FakeRuntimeOptions): FakeRuntime {
  const runs: Readonly<Record<string, Tensor>>[] = [];
  const queue: { feeds: Readonly<Record<string, Tensor>>; resolve: (o: Record<string, Tensor>) => void; reject: (e: Error) => void }[] = [];
  return {
    inputs: options.inputs,
    outputs: options.outputs,
    runs,
    get waiting() {
      return queue.length;
    },
    run(feeds) {
      runs.push(feeds);
      if (options.manual !== true) return Promise.resolve().then(() => options.compute(feeds));
      return new Promise((resolve, reject) => queue.push({ feeds, resolve, reject }));
    },
    finishNext(error) {
      const next = queue.shift();
      if (next === undefined) return false;
      if (error !== undefined) {
        next.reject(error);
        return true;
      }
      try {
        next.resolve(options.compute(next.feeds));
      } catch (err) {
        next.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return true;
    },
    async close() {},
  };
}

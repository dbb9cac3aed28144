import { GridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { zeros, type Tensor } from '../../common/tensor.js';
import { createDynamicBatcher, type DynamicBatcher, type SubmitOptions } from '../../services/model-serving/batcher/dynamic-batcher.js';
import type { BatcherStats } from '../../services/model-serving/batcher/batcher-stats.js';
import type { ModelRuntime } from '../../services/model-serving/model-runtime.js';
import { resolveModelUri } from '../../services/model-serving/resolve-uri.js';
import type { RuntimeCache, RuntimeLease } from '../../services/model-serving/runtime-cache.js';
import type { ModelSignature } from './check-infer-request.js';
import type { ModelServerMetrics } from './model-server-metrics.js';
import { DEFAULT_MODEL_BATCHING, type ModelBatchingOptions, type ServedModelSpec } from './served-model-spec.js';

/** loading → ready | failed; any → stopped. */
export type ModelState = 'loading' | 'ready' | 'failed' | 'stopped';

export interface ModelStatus {
  readonly name: string;
  readonly version: string;
  readonly state: ModelState;
  /** Why the model is not ready ('' when it is). */
  readonly reason: string;
}

export interface ServedModelDeps {
  readonly runtimes: RuntimeCache;
  readonly logger: Logger;
  readonly metrics: ModelServerMetrics;
  /** Folders relative model uris resolve against (then the working directory). */
  readonly baseDirs?: readonly string[];
}

/** Seconds between two performance.now() readings. */
function seconds(from: number, to: number): number {
  return Math.max(0, to - from) / 1000;
}

interface BatchTiming {
  readonly started: number;
  readonly ended: number;
}

/**
 * The memory a batch's output and a request's slice of it share: the typed array's buffer, or for
 * strings the buffer their elements view (onnxruntime's strings come back in one); none when empty.
 */
function memoryOf(t: Tensor): object | undefined {
  return t.dtype === 'string' ? t.data[0]?.buffer : t.data.buffer;
}

/** One model of the model server: its lease on a shared runtime, its batcher, its readiness. */
export class ServedModel {
  readonly name: string;
  readonly version: string;
  private stateNow: ModelState = 'loading';
  private reasonNow = 'loading';
  private lease: RuntimeLease | null = null;
  private batcherNow: DynamicBatcher | null = null;
  private signatureNow: ModelSignature | null = null;
  /**
   * Each batch's timing, keyed by the buffers of its outputs: the batcher hands each request
   * views over them along dim 0, so a request finds the batch that ran it.
   */
  private readonly timings = new WeakMap<object, BatchTiming>();
  private readonly failureListeners = new Set<(reason: string) => void>();
  /** Settles once loading and warm-up ended: true when the model is ready. */
  readonly loaded: Promise<boolean>;
  private readonly labels: { model: string; version: string };

  constructor(readonly spec: ServedModelSpec, private readonly deps: ServedModelDeps) {
    this.name = spec.name;
    this.version = spec.version ?? '1';
    this.labels = { model: this.name, version: this.version };
    deps.metrics.ready(this.labels, false);
    this.loaded = this.load();
  }

  get state(): ModelState {
    return this.stateNow;
  }

  get signature(): ModelSignature | null {
    return this.signatureNow;
  }

  status(): ModelStatus {
    return { name: this.name, version: this.version, state: this.stateNow, reason: this.stateNow === 'ready' ? '' : this.reasonNow };
  }

  stats(): BatcherStats | null {
    return this.batcherNow?.stats() ?? null;
  }

  private async load(): Promise<boolean> {
    const { logger } = this.deps;
    const log = logger.child({ model: this.name, version: this.version });
    try {
      const path = resolveModelUri(this.spec.uri, this.deps.baseDirs === undefined ? {} : { baseDirs: this.deps.baseDirs });
      const lease = await this.deps.runtimes.acquire(path, this.spec.useGpu ?? false, log);
      if (this.isStopped()) {
        lease.release();
        return false;
      }
      this.lease = lease;
      const { runtime } = lease;
      for (const info of [...runtime.inputs, ...runtime.outputs]) {
        if (info.dtype === null) {
          throw new GridlineError('MODEL_LOAD_FAILED', `model ${this.name}: tensor "${info.name}" has a type gridline tensors cannot hold`);
        }
      }
      this.signatureNow = { inputs: runtime.inputs, outputs: runtime.outputs };
      this.batcherNow = createDynamicBatcher(this.timed(runtime), {
        ...DEFAULT_MODEL_BATCHING,
        ...this.spec.batching,
        ...splitBatchDims(runtime, this.spec.batchDims ?? {}, this.spec.batching),
        name: this.name,
      });
      // Warm-up: the smallest valid inputs, so that no client request meets a cold session.
      const started = performance.now();
      await runtime.run(warmUpFeeds(runtime, this.spec.warmUpShapes));
      if (this.isStopped()) return false;
      this.stateNow = 'ready';
      this.deps.metrics.ready(this.labels, true);
      log.info({ path, warmUpMs: Math.round(performance.now() - started) }, `model ${this.name} version ${this.version}: ready`);
      return true;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (!this.isStopped()) {
        this.stateNow = 'failed';
        this.reasonNow = reason;
        log.error({ err, uri: this.spec.uri }, `model ${this.name} version ${this.version}: not ready: ${reason}`);
      }
      await this.releaseAll();
      return false;
    }
  }

  /** The runtime as the batcher sees it: each batch's timing and size recorded. */
  private timed(runtime: ModelRuntime): ModelRuntime {
    return {
      inputs: runtime.inputs,
      outputs: runtime.outputs,
      close: () => runtime.close(),
      run: async (feeds) => {
        const started = performance.now();
        let outputs: Record<string, Tensor>;
        try {
          outputs = await runtime.run(feeds);
        } catch (err) {
          // A session whose thread died answers nothing again: stop being ready, so the holders
          // (a serving replica, an exposed stage) report it and a fresh one is loaded.
          if (runtime.healthy?.() === false) this.markFailed(`the model session died: ${err instanceof Error ? err.message : String(err)}`);
          throw err;
        }
        const timing = { started, ended: performance.now() };
        for (const t of Object.values(outputs)) {
          const memory = memoryOf(t);
          if (memory !== undefined) this.timings.set(memory, timing);
        }
        const batched = this.batcherNow?.config.inputs.find((i) => i.batchDim !== null);
        const rows = batched === undefined ? 1 : (feeds[batched.info.name]?.shape[batched.batchDim ?? 0] ?? 1);
        this.deps.metrics.batch(this.labels, rows);
        return outputs;
      },
    };
  }

  /** UNAVAILABLE with the reason; retryable while the model is loading. */
  notReadyError(): GridlineError {
    return new GridlineError('UNAVAILABLE', `model ${this.name} version ${this.version} is not ready (${this.stateNow}): ${this.reasonNow}`, {
      retryable: this.stateNow === 'loading',
      details: { model: this.name, version: this.version, state: this.stateNow },
    });
  }

  private isStopped(): boolean {
    return this.stateNow === 'stopped';
  }

  /** Submits one request to the batcher (the caller checked it) and records its queue and compute time. */
  async infer(feeds: Record<string, Tensor>, options: SubmitOptions): Promise<Record<string, Tensor>> {
    const batcher = this.batcherNow;
    if (this.stateNow !== 'ready' || batcher === null) throw this.notReadyError();
    const submitted = performance.now();
    const outputs = await batcher.submit(feeds, options);
    const first = Object.values(outputs)[0];
    const memory = first === undefined ? undefined : memoryOf(first);
    const timing = memory === undefined ? undefined : this.timings.get(memory);
    if (timing !== undefined) {
      this.deps.metrics.batched(this.labels, seconds(submitted, timing.started), seconds(timing.started, timing.ended));
    }
    return outputs;
  }

  /** Calls `listener` once if the model stops being servable after it was ready; returns the unsubscribe. */
  onFailure(listener: (reason: string) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  private markFailed(reason: string): void {
    if (this.stateNow !== 'ready') return;
    this.stateNow = 'failed';
    this.reasonNow = reason;
    this.deps.metrics.ready(this.labels, false);
    this.deps.logger.error({ model: this.name, version: this.version, reason }, `model ${this.name} version ${this.version}: not ready: ${reason}`);
    for (const listener of [...this.failureListeners]) listener(reason);
    this.failureListeners.clear();
  }

  /** Most rows one batcher request may hold. */
  get maxBatchSize(): number {
    return this.batcherNow?.config.maxBatchSize ?? 0;
  }

  /**
   * Runs `feeds` on the session directly, outside the batcher: for a pipeline batch larger than
   * the batcher takes. Sessions run one call at a time in their thread, so this queues there.
   */
  async runUnbatched(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const runtime = this.lease?.runtime;
    if (this.stateNow !== 'ready' || runtime === undefined) throw this.notReadyError();
    return runtime.run(feeds);
  }

  /** False once the session can no longer run (its thread died). */
  healthy(): boolean {
    return this.lease?.runtime.healthy?.() !== false;
  }

  /** Fails queued requests, waits for running batches, hands the runtime back. */
  async close(): Promise<void> {
    if (this.stateNow === 'stopped') return;
    this.stateNow = 'stopped';
    this.reasonNow = 'the server is stopping';
    this.deps.metrics.ready(this.labels, false);
    await this.releaseAll();
  }

  private async releaseAll(): Promise<void> {
    const batcher = this.batcherNow;
    this.batcherNow = null;
    await batcher?.close();
    this.lease?.release();
    this.lease = null;
  }
}

/**
 * Zero-filled inputs of the smallest valid shape: every variable dimension 1, [] when the model
 * does not say; `shapes` overrides it per input.
 */
export function warmUpFeeds(runtime: Pick<ModelRuntime, 'inputs'>, shapes: Readonly<Record<string, readonly number[]>> = {}): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const info of runtime.inputs) {
    if (info.dtype === null) throw new GridlineError('MODEL_LOAD_FAILED', `input "${info.name}" has a type gridline tensors cannot hold`);
    const shape = Object.hasOwn(shapes, info.name) ? shapes[info.name] : undefined;
    feeds[info.name] = zeros(info.dtype, shape ?? (info.shape ?? []).map((d) => d ?? 1));
  }
  return feeds;
}

/** Batch dimensions by tensor name, split into the batcher's inputs and outputs; a name the model lacks is an error. */
function splitBatchDims(runtime: Pick<ModelRuntime, 'inputs' | 'outputs'>, dims: Readonly<Record<string, number | null>>, batching: ServedModelSpec['batching']): Pick<ModelBatchingOptions, 'inputs' | 'outputs'> {
  const names = Object.keys(dims);
  if (names.length === 0) return {};
  const inputs: Record<string, { batchDim: number | null }> = { ...batching?.inputs };
  const outputs: Record<string, { batchDim: number | null }> = { ...batching?.outputs };
  for (const name of names) {
    const batchDim = dims[name] ?? null;
    if (runtime.inputs.some((i) => i.name === name)) inputs[name] = { batchDim };
    else if (runtime.outputs.some((o) => o.name === name)) outputs[name] = { batchDim };
    else {
      const known = [...runtime.inputs, ...runtime.outputs].map((t) => t.name).join(', ');
      throw new GridlineError('INVALID_ARGUMENT', `batching.batchDims.${name}: the model has no input or output "${name}" (it has ${known})`);
    }
  }
  return { inputs, outputs };
}

/**
 * The validated, normalized pipeline: what `parsePipeline` returns and everything downstream
 * (coordinator, placement, stage services) consumes. Every default is filled in; every object is
 * frozen. Inner code never re-validates it.
 */

/** Resources one replica of a stage needs. Memory values are bytes; cpu is in cores. */
export interface ResourceRequest {
  readonly cpu: number;
  readonly memory: number;
  /** Number of whole GPUs (0 = none). */
  readonly gpu: number;
  /** GPU memory the replica needs on each GPU it uses, in bytes (0 = unspecified). */
  readonly gpuMemory: number;
  /** Substring a GPU's model name must contain (case-insensitive), e.g. "A100". */
  readonly gpuModel: string | null;
  /**
   * `required`: only nodes with the GPUs qualify. `preferred`: use GPUs when some node has them
   * free, otherwise run on CPU (handy for laptops and CI).
   */
  readonly gpuPolicy: 'required' | 'preferred';
}

export interface OpSpec {
  /** Registered op name, e.g. `image.resize`. */
  readonly op: string;
  /** Params after the op's own schema applied its defaults. */
  readonly params: Readonly<Record<string, unknown>>;
}

export interface RetryPolicy {
  /** Total tries per chunk, including the first. */
  readonly attempts: number;
  /** First backoff delay; doubles each retry. */
  readonly backoffMs: number;
}

interface StageBase {
  readonly name: string;
  readonly replicas: number;
  /** Chunks one replica processes at once. */
  readonly concurrency: number;
  readonly resources: ResourceRequest;
  /** Node labels that must all match (key = value). */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Stages of this pipeline whose replicas each replica must share a node with (placed first). */
  readonly affinity: readonly string[];
  /** Stages of this pipeline no replica may share a node with; the stage itself: one replica per node. */
  readonly antiAffinity: readonly string[];
  readonly retry: RetryPolicy;
}

export interface PreprocessingStage extends StageBase {
  readonly type: 'preprocessing';
  readonly ops: readonly OpSpec[];
}

export interface ModelSpec {
  readonly name: string;
  readonly runtime: 'onnx' | 'tfjs';
  /** `npm:<package>/<path>`, `file:<path>` or a plain path; resolved by the worker. */
  readonly uri: string;
  /** model input name -> item field holding it. Null: each input reads the field of its own name, or `x` for a single-input model. */
  readonly inputs: Readonly<Record<string, string>> | null;
  /** model output name -> item field to write. Null: each output writes the field of its own name, or `y` for a single-output model. */
  readonly outputs: Readonly<Record<string, string>> | null;
}

export interface BatchingSpec {
  /** Largest batch (sum of the items' leading dimensions) sent to the runtime in one call. */
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
}

export interface ModelServingStage extends StageBase {
  readonly type: 'model-serving';
  readonly model: ModelSpec;
  readonly batching: BatchingSpec;
  readonly preprocess: readonly OpSpec[];
  readonly postprocess: readonly OpSpec[];
  /** Also serve the model at the inference gateway (issue 3). */
  readonly expose: boolean;
}

export type UserStage = PreprocessingStage | ModelServingStage;

export interface FilesSource {
  readonly kind: 'files';
  /** Directory to read; relative paths are resolved against the pipeline file's folder by the CLI. */
  readonly path: string;
  readonly glob: string;
  /** Stop after this many items (null: all). */
  readonly limit: number | null;
}

export type SourceSpec = FilesSource;

export interface JsonlSink {
  readonly kind: 'jsonl';
  readonly path: string;
  /** Meta fields to write (null: all of them). `id` and `key` are always written. */
  readonly fields: readonly string[] | null;
}

export type SinkSpec = JsonlSink;

export interface ChunkingSpec {
  /** Items per queue job; items travel in chunks so per-job overhead is paid once per chunk. */
  readonly maxItems: number;
  /** Upper bound on the summed size of a chunk's binary fields, in bytes. */
  readonly maxBytes: number;
}

export interface PipelineSpec {
  readonly apiVersion: 'gridline/v1';
  readonly kind: 'Pipeline';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly source: SourceSpec;
  readonly stages: readonly UserStage[];
  readonly sink: SinkSpec;
  readonly chunking: ChunkingSpec;
  /**
   * Set by the coordinator for `gridline dlq replay`, never parsed from a document: this run
   * replays the dead-lettered items of run `of` (its source reads only `keys`), under that run's
   * identity, so item ids and sink lines continue the original run's output.
   */
  readonly replay?: ReplaySpec;
}

export interface ReplaySpec {
  /** The run whose output this one continues (the first of a chain of replays). */
  readonly of: string;
  /** The run whose dead letters are replayed. */
  readonly from: string;
  /** Source keys to read again. */
  readonly keys: readonly string[];
}

/** One problem found in a pipeline document. */
export interface PipelineIssue {
  /** JSON path into the document, e.g. `spec.stages[2].ops[0]`. */
  readonly path: string;
  /** 1-based line (and column) in the YAML/JSON text, when known. */
  readonly line: number | null;
  readonly column: number | null;
  readonly message: string;
}

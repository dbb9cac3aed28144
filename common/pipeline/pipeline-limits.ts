/** Limits and naming rules of pipeline documents, shared by the passes and the JSON Schema. */

/** Larger documents are refused before parsing: a pipeline is a page of YAML, not a data file. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** Alias expansions allowed in one YAML document (guards against "billion laughs"). */
export const MAX_ALIAS_COUNT = 100;

/** Levels of maps and lists: a pipeline needs a handful; parsing and checking recurse per level. */
export const MAX_NESTING_DEPTH = 64;

export const MAX_REPLICAS = 64;

/** Metadata and stage names end up in queue names, metrics labels and URLs: DNS-label-like. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_LABEL_HINT = '1-63 lowercase letters, digits and -, starting and ending with a letter or digit';

/** `source` and `sink` name the two ends of every pipeline (queues, metrics), so stages cannot use them. */
export const RESERVED_STAGE_NAMES: readonly string[] = ['source', 'sink'];

/** Item field names, as the op declarations accept them. */
export const FIELD_NAME = /^[A-Za-z_][\w.-]*$/;

/** Model runtimes a worker can load: onnxruntime-node (`.onnx`) and TensorFlow.js graph models (`model.json`). */
export const SUPPORTED_RUNTIMES = ['onnx', 'tfjs'] as const;

/** Fields every item has when it leaves the source: the file's bytes. */
export const SOURCE_FIELDS: readonly string[] = ['file'];

import { deepFreeze } from '../json.js';
import { parseCpu, parseQuantity } from '../quantity.js';
import { PIPELINE_DEFAULTS } from './pipeline-defaults.js';
import type { PipelineDocument } from './pipeline-document-schema.js';
import type { PipelineSpec, ResourceRequest, UserStage } from './types.js';

type DocumentStage = PipelineDocument['spec']['stages'][number];

/** Pass 3: fills every default, turns quantities into numbers and flattens the document into the frozen PipelineSpec. */
export function normalizePipeline(doc: PipelineDocument): PipelineSpec {
  const { source, chunking, stages, sink } = doc.spec;
  const spec: PipelineSpec = {
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    metadata: { name: doc.metadata.name, labels: { ...doc.metadata.labels } },
    source: { kind: source.kind, path: source.path, glob: source.glob, limit: source.limit ?? null },
    stages: stages.map(normalizeStage),
    sink: { kind: sink.kind, path: sink.path, fields: sink.fields ?? null },
    chunking: {
      maxItems: chunking?.maxItems ?? PIPELINE_DEFAULTS.chunking.maxItems,
      maxBytes: bytes(chunking?.maxBytes) ?? PIPELINE_DEFAULTS.chunking.maxBytes,
    },
  };
  return deepFreeze(spec);
}

function normalizeStage(stage: DocumentStage): UserStage {
  const defaults = PIPELINE_DEFAULTS[stage.type];
  const resources = normalizeResources(stage.resources, defaults.resources);
  const base = {
    name: stage.name,
    replicas: stage.replicas ?? PIPELINE_DEFAULTS.replicas,
    concurrency: stage.concurrency ?? defaults.concurrency,
    resources,
    nodeSelector: { ...stage.nodeSelector },
    affinity: [...(stage.affinity ?? [])],
    antiAffinity: [...(stage.antiAffinity ?? [])],
    retry: {
      attempts: stage.retry?.attempts ?? PIPELINE_DEFAULTS.retry.attempts,
      backoffMs: stage.retry?.backoffMs ?? PIPELINE_DEFAULTS.retry.backoffMs,
    },
  };
  if (stage.type === 'preprocessing') return { ...base, type: stage.type, ops: stage.ops };
  const { model } = stage;
  return {
    ...base,
    type: stage.type,
    model: {
      name: model.name,
      runtime: model.runtime,
      uri: model.uri,
      inputs: model.inputs ?? null,
      outputs: model.outputs ?? null,
    },
    batching: {
      maxBatchSize: stage.batching?.maxBatchSize ?? PIPELINE_DEFAULTS.batching.maxBatchSize,
      maxDelayMs: stage.batching?.maxDelayMs ?? PIPELINE_DEFAULTS.batching.maxDelayMs,
    },
    preprocess: stage.preprocess ?? [],
    postprocess: stage.postprocess ?? [],
    expose: stage.expose ?? PIPELINE_DEFAULTS.expose,
  };
}

/** Resources as written (quantities as strings or numbers, fields optional) → the request with every default filled. */
export function normalizeResources(r: DocumentStage['resources'], defaults: ResourceRequest): ResourceRequest {
  return {
    cpu: r?.cpu === undefined ? defaults.cpu : parseCpu(r.cpu),
    memory: bytes(r?.memory) ?? defaults.memory,
    gpu: r?.gpu ?? defaults.gpu,
    gpuMemory: bytes(r?.gpuMemory) ?? defaults.gpuMemory,
    gpuModel: r?.gpuModel ?? defaults.gpuModel,
    gpuPolicy: r?.gpuPolicy ?? defaults.gpuPolicy,
  };
}

/** Whole bytes: `1.5Ki` and friends can land between two. */
function bytes(quantity: string | number | undefined): number | undefined {
  return quantity === undefined ? undefined : Math.ceil(parseQuantity(quantity));
}

import { z } from 'zod';
import { CPU_PATTERN, QUANTITY_PATTERN, parseCpu } from '../quantity.js';
import { describeValue } from './describe-value.js';
import { opEntryJsonSchema, opEntrySchema } from './op-entry-schema.js';
import { PIPELINE_DEFAULTS } from './pipeline-defaults.js';
import type { StageTypeDefaults } from './pipeline-defaults.js';
import { DNS_LABEL, DNS_LABEL_HINT, FIELD_NAME, MAX_REPLICAS, RESERVED_STAGE_NAMES, SUPPORTED_RUNTIMES } from './pipeline-limits.js';

/*
 * Pass 2's schema: the document as written (apiVersion, kind, metadata, spec). Objects are strict,
 * so a typo is an unknown field rather than a silently ignored one. Fields with a default are
 * optional here and carry the default as metadata for the JSON Schema; normalizePipeline fills them.
 * Stage-name rules and replica bounds are only annotated here: the graph check enforces them.
 */

const QUANTITY_HINT = 'a byte quantity like 512Mi, 2Gi or 1.5G, or a number of bytes';
const CPU_HINT = 'cores (1, 0.5) or millicores (500m)';

// Quantities stay as written here (no transform, so the JSON Schema keeps their defaults);
// normalizePipeline converts them. The patterns are exactly what parseQuantity/parseCpu accept.
export const bytes = z
  .union(
    [
      z.number().nonnegative(),
      z.string().regex(new RegExp(QUANTITY_PATTERN), { error: (iss) => `invalid quantity ${describeValue(iss.input)}: expected ${QUANTITY_HINT}` }),
    ],
    { error: (iss) => (iss.input === undefined ? undefined : `expected ${QUANTITY_HINT}, got ${describeValue(iss.input)}`) },
  )
  .meta({ description: QUANTITY_HINT });

const CPU = new RegExp(CPU_PATTERN);
const cpu = z
  .union(
    [
      z.number().positive(),
      z.string().regex(CPU, { error: (iss) => `invalid cpu ${describeValue(iss.input)}: expected ${CPU_HINT}` }),
    ],
    { error: (iss) => (iss.input === undefined ? undefined : `expected ${CPU_HINT}, got ${describeValue(iss.input)}`) },
  )
  // "0m" passes the pattern; a string failing it was already reported above.
  .refine((v) => typeof v !== 'string' || !CPU.test(v) || parseCpu(v) > 0, 'cpu must be more than 0')
  .meta({ description: CPU_HINT });

const fieldName = z.string().regex(FIELD_NAME, { error: (iss) => `invalid field name ${describeValue(iss.input)}: letters, digits, _ . - (not starting with a digit)` });
export const stringMap = z.record(z.string(), z.string());
/** Names of other stages; the graph check resolves them. */
const stageNames = z.array(z.string().min(1));

/** A default shown in the JSON Schema as the user would write it. */
export function quantityText(n: number): string {
  if (n > 0 && n % 2 ** 30 === 0) return `${n / 2 ** 30}Gi`;
  if (n > 0 && n % 2 ** 20 === 0) return `${n / 2 ** 20}Mi`;
  return String(n);
}

export function resourcesSchema(d: StageTypeDefaults['resources']) {
  return z
    .strictObject({
      cpu: cpu.optional().meta({ default: d.cpu, description: `CPU cores per replica: ${CPU_HINT}.` }),
      memory: bytes.optional().meta({ default: quantityText(d.memory), description: 'Memory per replica.' }),
      gpu: z.int().min(0).max(16).optional().meta({ default: d.gpu, description: 'Whole GPUs per replica.' }),
      gpuMemory: bytes.optional().meta({ default: d.gpuMemory, description: 'GPU memory needed on each GPU; only with gpu >= 1.' }),
      gpuModel: z.string().min(1).nullable().optional().meta({ default: d.gpuModel, description: 'Substring of the GPU model name (case-insensitive), e.g. A100; only with gpu >= 1.' }),
      gpuPolicy: z
        .enum(['required', 'preferred'])
        .optional()
        .meta({ default: d.gpuPolicy, description: 'required: only nodes with the GPUs qualify; preferred: fall back to CPU when no GPU is free.' }),
    })
    // `when`: also while another resource field is wrong, so this issue comes in the same report.
    .superRefine(gpuFieldsNeedGpu, { when: (payload) => payload.value !== null && typeof payload.value === 'object' && !Array.isArray(payload.value) });
}

function gpuFieldsNeedGpu(r: { gpu?: unknown; gpuMemory?: unknown; gpuModel?: unknown }, ctx: z.RefinementCtx): void {
  if (r.gpu !== undefined && r.gpu !== 0) return;
  for (const key of ['gpuMemory', 'gpuModel'] as const) {
    if (r[key] !== undefined && r[key] !== null) {
      ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to GPUs, but gpu is 0: set gpu to 1 or more, or remove ${key}` });
    }
  }
}

const retrySchema = z
  .strictObject({
    attempts: z.int().min(1).max(100).optional().meta({ default: PIPELINE_DEFAULTS.retry.attempts, description: 'Total tries per chunk, the first included.' }),
    backoffMs: z.int().min(0).max(3_600_000).optional().meta({ default: PIPELINE_DEFAULTS.retry.backoffMs, description: 'First backoff; doubles each retry.' }),
  })
  .meta({ description: 'Retries of a failed chunk.' });

/** Model names appear in URLs (/v2/models/<name>) and metrics labels. */
export const modelNameSchema = z.string().regex(/^[A-Za-z0-9][\w.-]{0,127}$/, { error: (iss) => `invalid model name ${describeValue(iss.input)}: letters, digits, _ . - (up to 128)` });

export const runtimeSchema = z.enum(SUPPORTED_RUNTIMES, {
  error: (iss) => (iss.input === undefined ? undefined : `unknown runtime ${describeValue(iss.input)}: supported runtimes are ${SUPPORTED_RUNTIMES.join(', ')}`),
});

function stageFields(d: StageTypeDefaults) {
  return {
    name: z.string().meta({ pattern: DNS_LABEL.source, description: `Unique stage name: ${DNS_LABEL_HINT}; not ${RESERVED_STAGE_NAMES.join(' or ')}.` }),
    replicas: z.int().optional().meta({ default: PIPELINE_DEFAULTS.replicas, minimum: 1, maximum: MAX_REPLICAS, description: 'Replicas of this stage.' }),
    concurrency: z.int().min(1).max(1024).optional().meta({ default: d.concurrency, description: 'Chunks one replica processes at once.' }),
    resources: resourcesSchema(d.resources).optional().meta({ description: 'What one replica needs.' }),
    nodeSelector: stringMap.optional().meta({ default: {}, description: 'Node labels that must all match.' }),
    affinity: stageNames.optional().meta({
      default: [],
      description: 'Stages of this pipeline each replica must share a node with: it goes only on nodes running a replica of every one.',
    }),
    antiAffinity: stageNames.optional().meta({
      default: [],
      description: 'Stages of this pipeline no replica may share a node with; the stage itself means one replica per node.',
    }),
    retry: retrySchema.optional(),
  };
}

function stageSchema<Op extends z.ZodType>(opEntry: Op) {
  const opList = z.array(opEntry);
  const preprocessing = z
    .strictObject({
      ...stageFields(PIPELINE_DEFAULTS.preprocessing),
      type: z.literal('preprocessing'),
      ops: opList.min(1).meta({ description: 'Ops run in order on each item.' }),
    })
    .meta({ description: 'A CPU stage running a list of ops.' });

  const modelIo = z.record(z.string().min(1), fieldName).nullable().optional();
  const modelServing = z
    .strictObject({
      ...stageFields(PIPELINE_DEFAULTS['model-serving']),
      type: z.literal('model-serving'),
      model: z.strictObject({
        name: modelNameSchema,
        runtime: runtimeSchema,
        uri: z.string().min(1).meta({ description: '`npm:<package>/<path>`, `file:<path>` or a plain path.' }),
        inputs: modelIo.meta({ default: null, description: 'Model input name -> item field it reads (null: field `x`).' }),
        outputs: modelIo.meta({ default: null, description: 'Model output name -> item field it writes (null: field `y`).' }),
      }),
      batching: z
        .strictObject({
          maxBatchSize: z.int().min(1).max(4096).optional().meta({ default: PIPELINE_DEFAULTS.batching.maxBatchSize }),
          maxDelayMs: z.number().min(0).max(60_000).optional().meta({ default: PIPELINE_DEFAULTS.batching.maxDelayMs }),
        })
        .optional(),
      preprocess: opList.optional().meta({ default: [], description: 'Ops run on each item before the model.' }),
      postprocess: opList.optional().meta({ default: [], description: 'Ops run on each item after the model.' }),
      expose: z.boolean().optional().meta({ default: PIPELINE_DEFAULTS.expose, description: 'Also serve the model at the inference gateway.' }),
    })
    .meta({ description: 'A stage serving one model, with optional ops around it.' });

  return z.discriminatedUnion('type', [preprocessing, modelServing]);
}

function documentSchema<Op extends z.ZodType>(opEntry: Op) {
  return z
    .strictObject({
      // Lets JSON documents name their schema for editors; ignored otherwise.
      $schema: z.string().optional(),
      apiVersion: z.literal('gridline/v1'),
      kind: z.literal('Pipeline'),
      metadata: z.strictObject({
        name: z.string().regex(DNS_LABEL, { error: (iss) => `invalid name ${describeValue(iss.input)}: ${DNS_LABEL_HINT}` }),
        labels: stringMap.optional().meta({ default: {} }),
      }),
      spec: z.strictObject({
        source: z.strictObject({
          kind: z.literal('files'),
          path: z.string().min(1).meta({ description: 'Directory to read, relative to the pipeline file.' }),
          glob: z.string().min(1)
            // A glob is matched below `path`: `../x/*` or `/etc/*` would read outside it (and the allow-list).
            .refine((g) => !/^([/\\]|[A-Za-z]:)/.test(g) && !/(^|[/\\])\.\.([/\\]|$)/.test(g), {
              error: 'must be relative to the source path and must not climb out of it (no leading "/" and no ".." segment)',
            })
            .meta({ description: 'Files to take below `path`, e.g. "*.png" or "**/*.jpg"; never absolute, never "..".' }),
          limit: z.int().min(1).nullable().optional().meta({ default: null, description: 'Stop after this many items (null: all).' }),
        }),
        chunking: z
          .strictObject({
            maxItems: z.int().min(1).max(100_000).optional().meta({ default: PIPELINE_DEFAULTS.chunking.maxItems, description: 'Items per queue job.' }),
            maxBytes: bytes.optional().meta({ default: quantityText(PIPELINE_DEFAULTS.chunking.maxBytes), description: "Bound on a chunk's binary fields." }),
          })
          .optional(),
        stages: z.array(stageSchema(opEntry)).meta({ description: 'Stages, run in list order.' }),
        sink: z.strictObject({
          kind: z.literal('jsonl'),
          path: z.string().min(1),
          fields: z.array(z.string().min(1)).nullable().optional().meta({ default: null, description: 'Meta fields to write (null: all); id and key always.' }),
        }),
      }),
    })
    .meta({ title: 'gridline pipeline', description: 'A gridline pipeline document (apiVersion gridline/v1, kind Pipeline).' });
}

/** Validates a document; op entries come out as OpSpec with their params' defaults applied. */
export const pipelineDocumentSchema = documentSchema(opEntrySchema);

/** The same shape for the published JSON Schema, with every op and its params spelled out. */
export const pipelineDocumentJsonSchema = documentSchema(opEntryJsonSchema);

export type PipelineDocument = z.output<typeof pipelineDocumentSchema>;

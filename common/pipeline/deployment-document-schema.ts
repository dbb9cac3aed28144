import { z } from 'zod';
import { describeValue } from './describe-value.js';
import { DEPLOYMENT_DEFAULTS } from './deployment-defaults.js';
import { modelNameSchema, quantityText, resourcesSchema, runtimeSchema, stringMap } from './pipeline-document-schema.js';
import { DNS_LABEL, DNS_LABEL_HINT, MAX_REPLICAS } from './pipeline-limits.js';

const B = DEPLOYMENT_DEFAULTS.batching;

/*
 * Pass 2's schema for `kind: ModelDeployment`: strict objects, so a typo is an unknown field.
 * Fields with a default are optional and carry it for the JSON Schema; normalizeDeployment fills them.
 */
export const deploymentDocumentSchema = z
  .strictObject({
    $schema: z.string().optional(),
    apiVersion: z.literal('gridline/v1'),
    kind: z.literal('ModelDeployment'),
    metadata: z.strictObject({
      name: z.string().regex(DNS_LABEL, { error: (iss) => `invalid name ${describeValue(iss.input)}: ${DNS_LABEL_HINT}` }),
      labels: stringMap.optional().meta({ default: {} }),
    }),
    spec: z.strictObject({
      model: z.strictObject({
        name: modelNameSchema.meta({ description: 'The name clients call the model by (OIP model_name).' }),
        version: z.string().regex(/^[\w.-]{1,64}$/, { error: (iss) => `invalid version ${describeValue(iss.input)}: letters, digits, _ . - (up to 64)` })
          .optional().meta({ default: DEPLOYMENT_DEFAULTS.version, description: 'OIP model_version.' }),
        runtime: runtimeSchema,
        uri: z.string().min(1).meta({ description: '`npm:<package>/<path>`, `file:<path>` or a plain path (relative to the document).' }),
      }),
      replicas: z.int().min(1).max(MAX_REPLICAS).optional().meta({ default: DEPLOYMENT_DEFAULTS.replicas, description: 'Replicas; each serves the model on one node.' }),
      resources: resourcesSchema(DEPLOYMENT_DEFAULTS.resources).optional().meta({ description: 'What one replica needs.' }),
      nodeSelector: stringMap.optional().meta({ default: {}, description: 'Node labels that must all match.' }),
      batching: z.strictObject({
        maxBatchSize: z.int().min(1).max(4096).optional().meta({ default: B.maxBatchSize, description: 'Most rows per batch; 1 turns dynamic batching off.' }),
        maxDelayMs: z.number().min(0).max(10_000).optional().meta({ default: B.maxDelayMs, description: 'Longest wait for a batch to fill once the model is free.' }),
        preferredBatchSizes: z.array(z.int().min(1).max(4096)).optional().meta({ default: [], description: 'Batch sizes run at once without waiting.' }),
        maxQueueSize: z.int().min(1).max(1_000_000).optional().meta({ default: B.maxQueueSize, description: 'Requests waiting per replica; beyond it 429 / RESOURCE_EXHAUSTED at once.' }),
        timeoutMs: z.int().min(1).max(600_000).optional().meta({ default: B.timeoutMs, description: 'Deadline of a request that names none.' }),
        batchDims: z.record(z.string().min(1), z.int().min(0).max(63).nullable()).optional()
          .meta({ default: {}, description: 'Input/output name -> its batch dimension, or null when not batched (default: dim 0 when variable).' }),
      }).optional(),
      warmUp: z.strictObject({
        shapes: z.record(z.string().min(1), z.array(z.int().min(0).max(1 << 20)).max(16))
          .meta({ description: 'Input name -> shape of the zero-filled warm-up input (default: every variable dim 1).' }),
      }).optional(),
    }),
  })
  .superRefine((doc, ctx) => {
    const b = doc.spec.batching;
    const max = b?.maxBatchSize ?? B.maxBatchSize;
    b?.preferredBatchSizes?.forEach((size, i) => {
      if (size > max) ctx.addIssue({ code: 'custom', path: ['spec', 'batching', 'preferredBatchSizes', i], message: `preferred batch size ${size} is above maxBatchSize ${max}` });
    });
  })
  .meta({ title: 'gridline model deployment', description: `A model served online (apiVersion gridline/v1, kind ModelDeployment). Memory default ${quantityText(DEPLOYMENT_DEFAULTS.resources.memory)}.` });

export type DeploymentDocument = z.output<typeof deploymentDocumentSchema>;

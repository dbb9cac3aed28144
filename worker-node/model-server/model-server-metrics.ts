import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LATENCY_BOUNDS_S } from '../../services/model-serving/batcher/histogram.js';

const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

type ModelLabels = { model: string; version: string };

/**
 * The model server's Prometheus metrics (Triton's nv_inference_* ideas under gridline_ names, in
 * seconds), in a registry of their own so that two servers in one process, or tests, never
 * collide. Nothing here serves HTTP: `metricsText()` is what a /metrics route sends.
 */
export interface ModelServerMetrics {
  readonly registry: Registry;
  /** One ModelInfer call that ended with `outcome` (success, invalid_argument, queue_full, ...). */
  request(labels: ModelLabels, outcome: string, seconds: number): void;
  /** A request's wait from submit to its batch starting, and its batch's run time. */
  batched(labels: ModelLabels, queueSeconds: number, computeSeconds: number): void;
  /** One batch of `rows` rows went to the model. */
  batch(labels: ModelLabels, rows: number): void;
  inflight(labels: ModelLabels, delta: 1 | -1): void;
  ready(labels: ModelLabels, ready: boolean): void;
  /** The Prometheus text exposition of every series. */
  metricsText(): Promise<string>;
  readonly contentType: string;
}

export function createModelServerMetrics(): ModelServerMetrics {
  const registry = new Registry();
  const labelNames = ['model', 'version'] as const;
  const requests = new Counter({
    name: 'gridline_inference_requests_total',
    help: 'Inference requests by model, version and outcome (success, or the error code in lower case).',
    labelNames: ['model', 'version', 'outcome'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'gridline_inference_request_duration_seconds',
    help: 'Seconds from receiving an inference request to answering it.',
    labelNames, buckets: [...LATENCY_BOUNDS_S], registers: [registry],
  });
  const queueDuration = new Histogram({
    name: 'gridline_inference_queue_duration_seconds',
    help: 'Seconds a request waited in the dynamic batcher before its batch started.',
    labelNames, buckets: [...LATENCY_BOUNDS_S], registers: [registry],
  });
  const computeDuration = new Histogram({
    name: 'gridline_inference_compute_duration_seconds',
    help: 'Seconds the model ran the batch that held a request.',
    labelNames, buckets: [...LATENCY_BOUNDS_S], registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'gridline_inference_batch_size',
    help: 'Rows per batch sent to the model.',
    labelNames, buckets: BATCH_SIZE_BUCKETS, registers: [registry],
  });
  const inflight = new Gauge({
    name: 'gridline_inference_inflight_requests',
    help: 'Inference requests received and not yet answered.',
    labelNames, registers: [registry],
  });
  const ready = new Gauge({
    name: 'gridline_model_ready',
    help: '1 when the model is loaded, warmed up and serving; 0 otherwise.',
    labelNames, registers: [registry],
  });
  return {
    registry,
    contentType: registry.contentType,
    request(labels, outcome, seconds) {
      requests.inc({ ...labels, outcome });
      requestDuration.observe(labels, seconds);
    },
    batched(labels, queueSeconds, computeSeconds) {
      queueDuration.observe(labels, queueSeconds);
      computeDuration.observe(labels, computeSeconds);
    },
    batch(labels, rows) {
      batchSize.observe(labels, rows);
    },
    inflight(labels, delta) {
      inflight.inc(labels, delta);
    },
    ready(labels, isReady) {
      ready.set(labels, isReady ? 1 : 0);
    },
    metricsText() {
      return registry.metrics();
    },
  };
}

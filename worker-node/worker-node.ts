import { randomBytes } from 'node:crypto';
import { hostname as osHostname, cpus, totalmem } from 'node:os';
import { GridlineError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ReplicaSpec } from '../common/replica-spec.js';
import type { TlsMaterial } from '../common/tls/tls-material.js';
import { resolveFileAccess } from '../services/file-access/file-access.js';
import { RuntimeCache } from '../services/model-serving/runtime-cache.js';
import { createModelRuntime } from '../services/model-serving/create-model-runtime.js';
import { createRedis, type Redis } from '../services/queue/redis-connection.js';
import { ControlClient } from './control/control-client.js';
import type { GpuInfo } from './gpu/gpu-info.js';
import { resolveGpus } from './gpu/resolve-gpus.js';
import { startWorkerMetrics, type WorkerMetrics } from './metrics/worker-metrics.js';
import { readModelRepository } from './model-server/model-repository.js';
import { startModelServer, type ModelServer } from './model-server/model-server.js';
import { modelServerHost } from './model-server/serving-host.js';
import { ServiceTokenCheck } from './model-server/service-token-check.js';
import { ReplicaHost } from './replica-host.js';

export interface WorkerNodeOptions {
  /** host:port of the coordinator's gRPC endpoint. */
  readonly coordinator: string;
  readonly joinToken: string;
  readonly nodeId?: string;
  /** `auto` (nvidia-smi), `none`, or `sim:2xA100-80GB`. */
  readonly gpus?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Overrides the Redis URL the coordinator announces (e.g. from another network). */
  readonly redisUrl?: string;
  readonly cpu?: number;
  readonly memoryBytes?: number;
  /**
   * onnxruntime intra-op threads per model session (default: one per core). On a node that also
   * runs the gateway or many models, fewer threads avoid contention.
   */
  readonly modelThreads?: number;
  /** Whether idle onnxruntime threads spin waiting for work (default: onnxruntime's, yes). */
  readonly modelSpinWait?: boolean;
  /** How long an unused model stays loaded (default 60 s). */
  readonly modelKeepAliveMs?: number;
  /** A Triton-style folder (`<model>/<version>/model.onnx`) to serve over OIP gRPC. */
  readonly modelRepository?: string;
  /** Where the OIP gRPC model server listens (default 127.0.0.1, port 0 = any free port). */
  readonly inferenceHost?: string;
  readonly inferencePort?: number;
  /** Host gateways dial when the server listens on every interface (default: this machine's hostname). */
  readonly advertiseInferenceHost?: string;
  /** Directories pipelines may read and write here (sources, sinks, model files); default: the working directory. */
  readonly allowedDirs?: readonly string[];
  /** Folders custom op modules may load from; default none (`module` ops are refused). */
  readonly opModuleDirs?: readonly string[];
  /** Prometheus /metrics and /healthz over HTTP; off unless a port is given (0 = any free port). */
  readonly metricsPort?: number;
  /** Default 127.0.0.1. */
  readonly metricsHost?: string;
  /**
   * The node's certificate, key and CA: mutual TLS to the coordinator, TLS on the model server
   * (gateways must show a certificate from the CA) and HTTPS on /metrics. Null or absent: plaintext.
   */
  readonly tls?: TlsMaterial | null;
}

export interface RunningWorkerNode {
  readonly nodeId: string;
  readonly gpus: readonly GpuInfo[];
  stop(options?: { drain?: boolean }): Promise<void>;
  /** Resolves if the node must exit (wrong join token). */
  readonly fatal: Promise<GridlineError>;
}

export const AGENT_VERSION = '0.1.0';

/**
 * How long a stopping node keeps serving after withdrawing its routes: the coordinator
 * republishes within 100 ms and gateways apply it as it streams in; the rest is margin.
 */
const SERVING_DRAIN_MS = 1_000;

/** A worker node: probes GPUs, registers, keeps its control stream, runs assigned replicas. */
export async function startWorkerNode(options: WorkerNodeOptions, logger: Logger): Promise<RunningWorkerNode> {
  const access = resolveFileAccess({
    ...(options.allowedDirs === undefined ? {} : { allowedDirs: options.allowedDirs }),
    ...(options.opModuleDirs === undefined ? {} : { opModuleDirs: options.opModuleDirs }),
  });
  logger.info({ allowedDirs: access.allowedDirs, opModuleDirs: access.opModuleDirs }, 'pipelines may use files in the allowed directories only');
  const { gpus, note } = await resolveGpus(options.gpus);
  logger.info({ gpus: gpus.length }, note);
  const host = osHostname();
  const nodeId = options.nodeId ?? `${host.split('.')[0]}-${randomBytes(3).toString('hex')}`;
  let redis: Redis | null = null;
  let reportFatal: (err: GridlineError) => void = () => undefined;
  const fatal = new Promise<GridlineError>((resolve) => {
    reportFatal = resolve;
  });

  // Loaded models stay warm this long after their last replica stops, so the next run skips the load.
  const threading = {
    ...(options.modelThreads === undefined ? {} : { intraOpThreads: options.modelThreads }),
    ...(options.modelSpinWait === undefined ? {} : { spinWait: options.modelSpinWait }),
  };
  const runtimes = new RuntimeCache((path, o) => createModelRuntime(path, { ...o, ...threading }), options.modelKeepAliveMs ?? 60_000);
  // The node's OIP model server always runs: it serves the repository's models (if any) and
  // whatever model deployments and exposed stages the coordinator places here. It listens before
  // registering, so the node announces a ready address.
  const repo = options.modelRepository === undefined
    ? { models: [], skipped: [] }
    : await readModelRepository(options.modelRepository, { useGpu: gpus.some((g) => !g.simulated) });
  for (const skipped of repo.skipped) logger.warn({ model: skipped.name, reason: skipped.reason }, 'model repository entry skipped');
  const callers = new ServiceTokenCheck();
  const modelServer: ModelServer = await startModelServer({
    host: options.inferenceHost ?? '127.0.0.1', port: options.inferencePort ?? 0, tls: options.tls ?? null,
    models: repo.models, runtimes, logger: logger.child({ component: 'model-server' }),
    authorize: (header) => callers.check(header),
  });
  const inferenceAddress = advertisedAddress(modelServer.address, options.advertiseInferenceHost ?? osHostname());
  // Announced only once warmed up, so no gateway routes a request to a cold model; one that
  // fails to load is left out (its reason is logged and shown by ModelReady).
  const warm = await Promise.all(repo.models.map(async (m) => ((await modelServer.ready(m.name)) ? m : null)));
  const announced = warm.filter((m) => m !== null);
  logger.info({ address: inferenceAddress, models: repo.models.map((m) => m.name) }, 'serving models over the Open Inference Protocol (gRPC)');
  // After the model server, so its series are served whenever one runs.
  let metrics: WorkerMetrics | null = null;
  if (options.metricsPort !== undefined) {
    metrics = await startWorkerMetrics({
      host: options.metricsHost ?? '127.0.0.1', port: options.metricsPort, tls: options.tls ?? null, gpus,
      modelServer: modelServer.metrics.registry,
      logger: logger.child({ component: 'metrics' }),
    }).catch(async (err: unknown) => {
      await modelServer.stop();
      await runtimes.closeAll();
      throw err;
    });
  }

  // eslint-disable-next-line prefer-const -- assigned below; the host reports through it
  let control: ControlClient;
  const replicas = new ReplicaHost(
    () => {
      if (redis === null) throw new GridlineError('INTERNAL', 'replica started before registration');
      return redis;
    },
    gpus,
    logger,
    (state) => control.report(state),
    runtimes,
    modelServerHost(modelServer, access),
    access,
  );

  control = new ControlClient({
    coordinator: options.coordinator,
    tls: options.tls ?? null,
    logger,
    register: {
      joinToken: options.joinToken,
      nodeId,
      hostname: host,
      agentVersion: AGENT_VERSION,
      labels: { ...options.labels },
      inferenceAddress,
      // Only the repository's models: placed ones are announced by the coordinator's own routes.
      servedModels: announced.map((m) => ({ name: m.name, version: m.version ?? '1' })),
      resources: {
        cpu: options.cpu ?? cpus().length,
        memoryBytes: String(options.memoryBytes ?? totalmem()),
        gpus: gpus.map((g) => ({ index: g.index, uuid: g.uuid, model: g.model, memoryBytes: String(g.memory), simulated: g.simulated })),
      },
    },
    replicaStates: () => replicas.states(),
    onServiceToken: (token) => callers.set(token),
    onRegistered: async (res) => {
      callers.set(res.serviceToken);
      if (redis === null) {
        const url = options.redisUrl ?? res.redisUrl;
        redis = createRedis(url);
        redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error (reconnecting)'));
        logger.info({ node: res.nodeId, redis: url.replace(/\/\/[^@]*@/, '//***@'), ttlMs: res.ttlMs }, 'registered with the coordinator');
      }
    },
    onMessage: (msg) => {
      if (msg.start) {
        let spec: ReplicaSpec;
        try {
          spec = JSON.parse(msg.start.specJson) as ReplicaSpec;
        } catch (err) {
          logger.error({ err, replica: msg.start.replicaId }, 'unreadable replica spec');
          return;
        }
        replicas.start(spec);
      } else if (msg.stop) {
        const { replicaId, drain } = msg.stop;
        replicas.stop(replicaId, drain).catch((err: unknown) => logger.error({ err, replica: replicaId }, 'stopping a replica failed'));
      }
    },
    onFatal: (err) => {
      logger.error({ code: err.code }, err.message);
      reportFatal(err);
    },
  });

  const registered = control.start();
  const outcome = await Promise.race([registered.then(() => null), fatal]);
  if (outcome !== null) {
    await control.stop();
    await metrics?.stop();
    await modelServer.stop();
    await runtimes.closeAll();
    throw outcome;
  }

  return {
    nodeId: control.id,
    gpus,
    fatal,
    async stop({ drain = false } = {}) {
      // Serving replicas first: they report draining, the coordinator's routes drop this node,
      // and gateways stop sending here before the models go, so no online request is refused.
      if (replicas.drainServing() > 0) await new Promise((r) => setTimeout(r, SERVING_DRAIN_MS));
      // Then leave the control stream: the coordinator stops sending work here and, once the
      // lease runs out, places these replicas elsewhere while the chunks in hand finish.
      const draining = replicas.stopAll(drain);
      try {
        await control.stop();
        await draining;
      } finally {
        // Whatever a replica did on its way out, free the model threads so the process can exit.
        await modelServer.stop();
        await runtimes.closeAll();
        await metrics?.stop();
      }
      await (redis as Redis | null)?.quit().catch(() => undefined);
    },
  };
}

/** host:port a gateway can dial: a wildcard listen address is replaced by `host`. */
export function advertisedAddress(listening: string, host: string): string {
  const at = listening.lastIndexOf(':');
  const bound = listening.slice(0, at).replace(/^\[|\]$/g, '');
  const port = listening.slice(at + 1);
  if (bound !== '0.0.0.0' && bound !== '::') return listening;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

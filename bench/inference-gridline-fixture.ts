/**
 * The gridline fixture of the inference benchmarks: a cluster (coordinator here, worker and
 * gateway processes) and a client of the gateway, gRPC or REST. Loaded only by gridline sides, so
 * a baseline's process does not carry the coordinator in its peak RSS.
 */
import { benchPrefix, type SideContext } from './harness.js';
import {
  grpcInferClient, grpcInferRequest, restBinaryBody, restInferClient, restJsonBody, warmUp, type InferClient,
} from './inference-clients.js';
import { startInferenceCluster, type BenchModel, type InferenceCluster } from './inference-cluster.js';
import type { BenchModelKind } from './inference-models.js';

/** How the client talks to the gateway. */
export type GatewayProtocol = 'grpc' | 'rest-binary' | 'rest-json';

export const PROTOCOL_TEXT: Readonly<Record<GatewayProtocol, string>> = {
  'grpc': 'gRPC (raw tensor bytes)',
  'rest-binary': 'REST with binary tensors',
  'rest-json': 'REST with JSON tensors',
};

export interface GatewayFixture {
  readonly cluster: InferenceCluster;
  readonly client: InferClient;
  /** Stops the client and the cluster; the peaks read just before. */
  stop(): Promise<ReturnType<InferenceCluster['peaks']>>;
}

/** A client for one model over `protocol`; the first answer is checked for the output's shape. */
export function gatewayClient(cluster: InferenceCluster, protocol: GatewayProtocol, model: string, kind: BenchModelKind, connections: number): InferClient {
  const outName = kind.output;
  if (protocol === 'grpc') {
    return grpcInferClient(`127.0.0.1:${cluster.gatewayGrpcPort}`, grpcInferRequest(model, kind.input, kind.rowShape), {
      channels: Math.min(4, connections),
      check: (r) => {
        if (r.outputs[0]?.name !== outName || r.rawOutputContents.length !== 1) throw new Error(`unexpected answer: ${JSON.stringify(r.outputs)}`);
      },
    });
  }
  const body = protocol === 'rest-binary' ? restBinaryBody(kind.input, kind.rowShape) : restJsonBody(kind.input, kind.rowShape);
  return restInferClient(cluster.gatewayHttpPort, `/v2/models/${model}/infer`, body, {
    connections,
    check: (_status, res) => {
      if (!res.includes(Buffer.from(`"name":"${outName}"`))) throw new Error(`unexpected answer: ${res.subarray(0, 200).toString()}`);
    },
  });
}

export async function startGatewayFixture(ctx: SideContext, tmp: string, options: {
  readonly models: readonly BenchModel[];
  readonly protocol: GatewayProtocol;
  readonly model: string;
  readonly kind: BenchModelKind;
  readonly connections: number;
  readonly workers?: number;
  /** Load before the first repetition (as many clients as connections): gateway and worker get JIT-compiled. */
  readonly warmUpMs: number;
}): Promise<GatewayFixture> {
  const cluster = await startInferenceCluster({ dir: tmp, prefix: benchPrefix('inference'), models: options.models, workers: options.workers ?? 1, ctx });
  let client: InferClient;
  try {
    client = gatewayClient(cluster, options.protocol, options.model, options.kind, options.connections);
    await client.call();
    await warmUp(client, options.connections, options.warmUpMs, ctx.signal);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return {
    cluster,
    client,
    async stop() {
      client.close();
      return cluster.stop();
    },
  };
}

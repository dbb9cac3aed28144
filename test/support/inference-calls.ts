import * as grpc from '@grpc/grpc-js';
import type { ModelInferResponse__Output } from '../../proto/generated/inference/ModelInferResponse.js';
import { loadInferenceProto } from '../../proto/load-inference-proto.js';
import { authedFetch, bearerInterceptor } from './auth.js';
import { ADD_ONE } from './inference-cluster.js';

export type InferClient = grpc.Client & {
  ModelInfer(req: object, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: ModelInferResponse__Output) => void): void;
};

/** A GRPCInferenceService client presenting `key` (the test key for a gateway, the service token for a worker). */
export function inferClient(port: number, key?: string): InferClient {
  const Service = loadInferenceProto().inference.GRPCInferenceService;
  return new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    interceptors: [bearerInterceptor(key)], 'grpc.max_send_message_length': -1,
  }) as unknown as InferClient;
}

/** Four FP32 values for one valid request, different per `n`, so a mixed-up answer shows. */
export function rowOf(n: number): number[] {
  return [n, n + 0.5, -n, n * 2];
}

/** A valid REST inference (JSON); null when the answer is y = x + 1, else what went wrong. */
export async function validRest(httpPort: number, n: number): Promise<string | null> {
  const x = rowOf(n);
  try {
    const res = await authedFetch(`http://127.0.0.1:${httpPort}/v2/models/${ADD_ONE}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: x }] }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { outputs?: { name: string; shape: number[]; data: number[] }[]; error?: string };
    if (res.status !== 200) return `HTTP ${res.status}: ${body.error ?? ''}`;
    const y = body.outputs?.[0];
    const want = x.map((v) => Math.fround(Math.fround(v) + 1));
    if (y?.shape.join(',') !== '1,4' || JSON.stringify(y.data) !== JSON.stringify(want)) return `wrong answer ${JSON.stringify(body)} for ${JSON.stringify(x)}`;
    return null;
  } catch (err) {
    return `client error: ${(err as Error).message}`;
  }
}

/** A valid gRPC inference (raw contents); null when the answer is y = x + 1, else what went wrong. */
export function validGrpc(client: InferClient, n: number): Promise<string | null> {
  const x = Float32Array.from(rowOf(n));
  return new Promise((resolve) => {
    client.ModelInfer({
      modelName: ADD_ONE,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
      rawInputContents: [Buffer.from(x.buffer)],
    }, { deadline: Date.now() + 30_000 }, (err, res) => {
      if (err !== null) return resolve(`${grpc.status[err.code]}: ${err.details}`);
      const raw = res?.rawOutputContents[0];
      if (raw === undefined || raw.length !== 16) return resolve(`wrong answer ${JSON.stringify(res)}`);
      const y = new Float32Array(new Uint8Array(raw).buffer);
      const ok = [...x].every((v, i) => y[i] === Math.fround(v + 1));
      resolve(ok ? null : `wrong answer ${[...y].join(',')} for ${[...x].join(',')}`);
    });
  });
}

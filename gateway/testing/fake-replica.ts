import * as grpc from '@grpc/grpc-js';
import { decodeGrpcRequest, encodeGrpcResponse } from '../../common/oip/grpc-codec.js';
import { tensor } from '../../common/tensor.js';
import { loadInferenceProto } from '../../proto/load-inference-proto.js';
import type { ModelInferRequest__Output } from '../../proto/generated/inference/ModelInferRequest.js';

/** How a fake replica answers ModelInfer. */
export type FakeBehaviour =
  | { readonly kind: 'ok' }
  | { readonly kind: 'full' }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'fail'; readonly code: grpc.status };

export interface FakeReplica {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** ModelInfer calls received (any outcome). */
  calls: number;
  /** The `authorization` metadata of the last ModelInfer (null: none). */
  lastAuthorization: string | null;
  behaviour: FakeBehaviour;
  stop(): void;
}

/**
 * A real grpc-js inference.GRPCInferenceService serving one trivial model, `add_one` by default:
 * FP32 input `x` of any shape → output `y` = x + 1, with `replica` (its id) in the response
 * parameters so tests see who answered. Test helper only.
 */
export async function startFakeReplica(id: string, options: { model?: string; behaviour?: FakeBehaviour; port?: number } = {}): Promise<FakeReplica> {
  const model = options.model ?? 'add_one';
  const server = new grpc.Server();
  const replica: FakeReplica = {
    id, address: '', port: 0, calls: 0, lastAuthorization: null, behaviour: options.behaviour ?? { kind: 'ok' },
    stop: () => server.forceShutdown(),
  };
  const fail = (code: grpc.status, details: string): Partial<grpc.StatusObject> => ({ code, details });
  const notFound = (name: string): Partial<grpc.StatusObject> | null =>
    name === model ? null : fail(grpc.status.NOT_FOUND, `unknown model ${JSON.stringify(name)}`);
  server.addService(loadInferenceProto().inference.GRPCInferenceService.service, {
    ServerLive: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { live: true }),
    ServerReady: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { ready: true }),
    ServerMetadata: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { name: `fake-${id}`, version: '1', extensions: [] }),
    ModelReady: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const err = notFound(call.request.name);
      if (err !== null) cb(err);
      else cb(null, { ready: true });
    },
    ModelMetadata: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const err = notFound(call.request.name);
      if (err !== null) cb(err);
      else {
        cb(null, {
          name: model, versions: ['1'], platform: `fake_${id}`,
          inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1] }],
          outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, -1] }],
        });
      }
    },
    ModelInfer: (call: grpc.ServerUnaryCall<ModelInferRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      replica.calls++;
      const auth = call.metadata.get('authorization')[0];
      replica.lastAuthorization = typeof auth === 'string' ? auth : null;
      const behaviour = replica.behaviour;
      if (behaviour.kind === 'full') {
        cb(fail(grpc.status.RESOURCE_EXHAUSTED, `${model}: queue full (replica ${id})`));
        return;
      }
      if (behaviour.kind === 'fail') {
        cb(fail(behaviour.code, `replica ${id} failed on purpose`));
        return;
      }
      const answer = (): void => {
        try {
          const req = decodeGrpcRequest(call.request);
          const nf = notFound(req.modelName);
          if (nf !== null) {
            cb(nf);
            return;
          }
          const input = req.inputs[0];
          if (req.inputs.length !== 1 || input === undefined || input.name !== 'x') {
            cb(fail(grpc.status.INVALID_ARGUMENT, `inputs: ${model} takes one input named "x"`));
            return;
          }
          if (input.tensor.dtype !== 'float32') {
            cb(fail(grpc.status.INVALID_ARGUMENT, 'inputs[0].datatype: must be FP32'));
            return;
          }
          const y = new Float32Array(input.tensor.data.length);
          const x = input.tensor.data as Float32Array;
          for (let i = 0; i < y.length; i++) y[i] = (x[i] ?? 0) + 1;
          cb(null, encodeGrpcResponse({
            modelName: model, modelVersion: '1', id: req.id,
            parameters: { replica: id },
            outputs: [{ name: 'y', tensor: tensor('float32', input.tensor.shape, y) }],
          }));
        } catch (err) {
          cb(fail(grpc.status.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err)));
        }
      };
      if (behaviour.kind === 'slow') setTimeout(answer, behaviour.delayMs);
      else answer();
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return Object.assign(replica, { port, address: `127.0.0.1:${port}` });
}

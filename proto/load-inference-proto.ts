import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/inference.js';

/**
 * Loader options for the Open Inference Protocol; they must match the flags of `npm run gen:proto`
 * so the generated types hold.
 *
 * `longs: String`, not `Number`: int64 fields here carry tensor values (`int64_contents`,
 * `uint64_contents`) and parameters (`int64_param`, `uint64_param`) that use the full 64-bit range,
 * and `Number` would round everything beyond 2^53 without a word. Shapes are int64 too and want
 * numbers, but they are small: common/oip parses each one from its decimal string and rejects what
 * is not a safe non-negative integer. Serializing accepts numbers and decimal strings alike, so
 * outgoing shapes stay numbers. These are cluster.proto's options, so one set of gen:proto flags
 * (`--longs=String --enums=String --defaults --oneofs`) serves both files.
 */
export const INFERENCE_PROTO_LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  keepCase: false,
};

let cached: ProtoGrpcType | undefined;

/** The GRPCInferenceService definition (package `inference`), loaded once per process. */
export function loadInferenceProto(): ProtoGrpcType {
  if (cached === undefined) {
    const file = fileURLToPath(new URL('./inference.proto', import.meta.url));
    const definition = protoLoader.loadSync(file, INFERENCE_PROTO_LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached;
}

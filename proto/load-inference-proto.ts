import type { ProtoGrpcType } from './generated/inference.js';
import { loadProtoFile, PROTO_LOADER_OPTIONS } from './load-proto.js';

/**
 * The Open Inference Protocol uses the shared loader options. Shapes are int64 too and arrive as
 * decimal strings: common/oip parses each and rejects what is not a safe non-negative integer;
 * serializing accepts numbers, so outgoing shapes stay numbers.
 */
export const INFERENCE_PROTO_LOADER_OPTIONS = PROTO_LOADER_OPTIONS;

let cached: ProtoGrpcType | undefined;

/** The GRPCInferenceService definition (package `inference`), loaded once per process. */
export function loadInferenceProto(): ProtoGrpcType {
  cached ??= loadProtoFile<ProtoGrpcType>('inference.proto');
  return cached;
}

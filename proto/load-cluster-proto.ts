import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/cluster.js';

/** Loader options; they must match the flags of `npm run gen:proto` so the generated types hold. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  keepCase: false,
};

let cached: ProtoGrpcType | undefined;

/** The Cluster service definition (coordinator <-> worker), loaded once per process. */
export function loadClusterProto(): ProtoGrpcType {
  if (cached === undefined) {
    const file = fileURLToPath(new URL('./cluster.proto', import.meta.url));
    const definition = protoLoader.loadSync(file, PROTO_LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached;
}

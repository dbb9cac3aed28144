import type { ProtoGrpcType } from './generated/cluster.js';
import { loadProtoFile } from './load-proto.js';

export { PROTO_LOADER_OPTIONS } from './load-proto.js';

let cached: ProtoGrpcType | undefined;

/** The Cluster service definition (coordinator <-> worker), loaded once per process. */
export function loadClusterProto(): ProtoGrpcType {
  cached ??= loadProtoFile<ProtoGrpcType>('cluster.proto');
  return cached;
}

import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * Loader options for every gridline proto; they must match the flags of `npm run gen:proto`
 * (`--longs=String --enums=String --defaults --oneofs`) so the generated types hold. Longs as
 * strings: int64 tensor values and parameters use the full 64-bit range, which numbers would round.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  keepCase: false,
};

/** Loads a .proto of this folder into grpc-js definitions (callers cache the result). */
export function loadProtoFile<T>(name: string): T {
  const file = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, PROTO_LOADER_OPTIONS)) as unknown as T;
}

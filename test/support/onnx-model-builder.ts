import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { OipDatatype } from '../../common/oip/datatypes.js';

// Tiny ONNX models written on the fly, so tests and benches get an exact model per datatype
// without shipping binaries. Only the onnx.proto messages these models need, with onnx.proto's
// own field numbers (proto2, as onnx.proto is).
const ONNX_SUBSET = `
syntax = "proto2";
package onnx;
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  optional string name = 8;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

const ModelProto = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');

/** TensorProto.DataType of each OIP datatype. */
export const ONNX_ELEM_TYPE: Readonly<Record<OipDatatype, number>> = {
  FP32: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BYTES: 8, BOOL: 9,
  FP16: 10, FP64: 11, UINT32: 12, UINT64: 13, BF16: 16,
};

/** A dimension: a size, a symbolic name ('N'), or null for one with neither. */
export type ModelDim = number | string | null;

const OPSET = 13;
// IR version 7 is the first that opset 13 may be used with; every onnxruntime since 1.8 reads it.
const IR_VERSION = 7;

function valueInfo(name: string, elemType: number, shape: readonly ModelDim[]): object {
  const dim = shape.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {}));
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

function encodeModel(name: string, graph: object): Uint8Array {
  const message = ModelProto.fromObject({
    ir_version: IR_VERSION,
    producer_name: 'gridline-test',
    opset_import: [{ domain: '', version: OPSET }],
    graph: { name, ...graph },
  });
  const bytes = ModelProto.encode(message).finish();
  // protobufjs hands back a Buffer in Node; callers get the plain Uint8Array the signature names.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface IdentityModelOptions {
  readonly datatype: OipDatatype;
  readonly shape: readonly ModelDim[];
  /** Input name (default 'x'). */
  readonly input?: string;
  /** Output name, or several names, each an identity of the input (default 'y'). */
  readonly output?: string | readonly string[];
}

/** A model whose every output is its input, unchanged: opset 13 Identity. */
export function identityModel(options: IdentityModelOptions): Uint8Array {
  const { datatype, shape, input = 'x', output = 'y' } = options;
  const elemType = ONNX_ELEM_TYPE[datatype];
  const outputs = typeof output === 'string' ? [output] : [...output];
  return encodeModel(`identity_${datatype.toLowerCase()}`, {
    node: outputs.map((o) => ({ input: [input], output: [o], name: `identity_${o}`, op_type: 'Identity', domain: '' })),
    input: [valueInfo(input, elemType, shape)],
    output: outputs.map((o) => valueInfo(o, elemType, shape)),
  });
}

export interface AddOneModelOptions {
  readonly shape: readonly ModelDim[];
  readonly input?: string;
  readonly output?: string;
}

/** FP32 `output = input + 1`: a tiny model whose answer proves it ran. */
export function addOneModel(options: AddOneModelOptions): Uint8Array {
  const { shape, input = 'x', output = 'y' } = options;
  return encodeModel('add_one', {
    node: [{ input: [input, 'one'], output: [output], name: 'add_one', op_type: 'Add', domain: '' }],
    initializer: [{ name: 'one', data_type: ONNX_ELEM_TYPE.FP32, dims: [], float_data: [1] }],
    input: [valueInfo(input, ONNX_ELEM_TYPE.FP32, shape)],
    output: [valueInfo(output, ONNX_ELEM_TYPE.FP32, shape)],
  });
}

/** Writes a Triton-style model repository: `<dir>/<name>/1/model.onnx` for each model. */
export async function writeModelRepository(dir: string, models: Readonly<Record<string, Uint8Array>>): Promise<void> {
  for (const [name, bytes] of Object.entries(models)) {
    const version = join(dir, name, '1');
    await mkdir(version, { recursive: true });
    await writeFile(join(version, 'model.onnx'), bytes);
  }
}

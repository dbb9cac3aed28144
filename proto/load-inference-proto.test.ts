import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INFERENCE_PROTO_LOADER_OPTIONS, loadInferenceProto } from './load-inference-proto.js';

interface FieldDescriptor { readonly name: string; readonly number: number }
interface MessageDescriptor { readonly name: string; readonly field: readonly FieldDescriptor[]; readonly nestedType: readonly MessageDescriptor[] }

const pkg = loadInferenceProto().inference;

function fieldsOf(message: keyof typeof pkg, nested?: string): Record<string, number> {
  let type = (pkg[message] as unknown as { type: MessageDescriptor }).type;
  if (nested !== undefined) type = type.nestedType.find((t) => t.name === nested)!;
  return Object.fromEntries(type.field.map((f) => [f.name, f.number]));
}

// The numbers of ../shared/design/OIP.md: Triton, KServe and MLServer clients depend on them.
describe('inference.proto', () => {
  it('keeps the Open Inference Protocol field numbers', () => {
    expect(fieldsOf('ModelInferRequest')).toEqual({ modelName: 1, modelVersion: 2, id: 3, parameters: 4, inputs: 5, outputs: 6, rawInputContents: 7 });
    expect(fieldsOf('ModelInferRequest', 'InferInputTensor')).toEqual({ name: 1, datatype: 2, shape: 3, parameters: 4, contents: 5 });
    expect(fieldsOf('ModelInferRequest', 'InferRequestedOutputTensor')).toEqual({ name: 1, parameters: 2 });
    expect(fieldsOf('ModelInferResponse')).toEqual({ modelName: 1, modelVersion: 2, id: 3, parameters: 4, outputs: 5, rawOutputContents: 6 });
    expect(fieldsOf('ModelInferResponse', 'InferOutputTensor')).toEqual({ name: 1, datatype: 2, shape: 3, parameters: 4, contents: 5 });
    expect(fieldsOf('InferParameter')).toEqual({ boolParam: 1, int64Param: 2, stringParam: 3, doubleParam: 4, uint64Param: 5 });
    expect(fieldsOf('InferTensorContents')).toEqual({
      boolContents: 1, intContents: 2, int64Contents: 3, uintContents: 4, uint64Contents: 5,
      fp32Contents: 6, fp64Contents: 7, bytesContents: 8,
    });
    expect(fieldsOf('ModelMetadataResponse')).toEqual({ name: 1, versions: 2, platform: 3, inputs: 4, outputs: 5 });
    expect(fieldsOf('ModelMetadataResponse', 'TensorMetadata')).toEqual({ name: 1, datatype: 2, shape: 3 });
    expect(fieldsOf('ServerMetadataResponse')).toEqual({ name: 1, version: 2, extensions: 3 });
  });

  it('serves the six OIP methods under /inference.GRPCInferenceService/', () => {
    const paths = Object.values(pkg.GRPCInferenceService.service).map((m) => m.path);
    expect(paths).toEqual(['ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelInfer']
      .map((m) => `/inference.GRPCInferenceService/${m}`));
  });

  it('reads int64 as exact decimal strings', () => {
    const { ModelInfer } = pkg.GRPCInferenceService.service;
    const out = ModelInfer.requestDeserialize(ModelInfer.requestSerialize({
      inputs: [{ shape: [2, 3], contents: { int64Contents: ['9223372036854775807'], uint64Contents: ['18446744073709551615'] } }],
    }));
    expect(out.inputs[0]!.shape).toEqual(['2', '3']);
    expect(out.inputs[0]!.contents!.int64Contents).toEqual(['9223372036854775807']);
    expect(out.inputs[0]!.contents!.uint64Contents).toEqual(['18446744073709551615']);
  });

  it('loads with the options gen:proto generates types for', () => {
    const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const flags = scripts['gen:proto']!;
    expect(INFERENCE_PROTO_LOADER_OPTIONS.longs).toBe(String);
    expect(flags).toContain('--longs=String');
    expect(INFERENCE_PROTO_LOADER_OPTIONS.enums).toBe(String);
    expect(flags).toContain('--enums=String');
    expect(INFERENCE_PROTO_LOADER_OPTIONS.defaults).toBe(true);
    expect(flags).toContain('--defaults');
    expect(INFERENCE_PROTO_LOADER_OPTIONS.oneofs).toBe(true);
    expect(flags).toContain('--oneofs');
    expect(INFERENCE_PROTO_LOADER_OPTIONS.keepCase).toBe(false);
    expect(flags).not.toContain('--keepCase');
  });
});

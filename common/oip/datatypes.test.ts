import { describe, expect, it } from 'vitest';
import { DTYPES, bytesPerElement } from '../tensor.js';
import { OIP_DATATYPES, dtypeOfOipDatatype, oipDatatypeOf, oipElementSize } from './datatypes.js';
import { expectOipError } from './expect-oip-error.js';

describe('OIP datatypes', () => {
  it('maps every dtype to a datatype and back, with the same element size', () => {
    for (const dtype of DTYPES) {
      const datatype = oipDatatypeOf(dtype);
      expect(dtypeOfOipDatatype(datatype, 'f')).toBe(dtype);
      expect(oipElementSize(datatype)).toBe(dtype === 'string' ? null : bytesPerElement(dtype));
    }
    expect(oipDatatypeOf('float32')).toBe('FP32');
    expect(oipDatatypeOf('bool')).toBe('BOOL');
    expect(oipDatatypeOf('uint64')).toBe('UINT64');
    expect(oipDatatypeOf('float16')).toBe('FP16');
    expect(oipDatatypeOf('string')).toBe('BYTES');
  });

  it('knows the size of every wire datatype, BYTES having none', () => {
    expect(OIP_DATATYPES.map((d) => oipElementSize(d))).toEqual([1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8, null]);
  });

  it('refuses BF16, which onnxruntime-node cannot take, naming the field', () => {
    expectOipError(() => dtypeOfOipDatatype('BF16', 'inputs[2].datatype'), 'inputs[2].datatype', /BF16 is not supported: onnxruntime-node cannot take bfloat16/);
  });

  it('refuses unknown and lower-case names', () => {
    expectOipError(() => dtypeOfOipDatatype('fp32', 'x.datatype'), 'x.datatype', /"fp32" is not an OIP datatype \(one of BOOL, UINT8/);
    expectOipError(() => dtypeOfOipDatatype(7, 'x.datatype'), 'x.datatype', /7 is not an OIP datatype/);
    expectOipError(() => dtypeOfOipDatatype('toString', 'x.datatype'), 'x.datatype', /not an OIP datatype/);
  });
});

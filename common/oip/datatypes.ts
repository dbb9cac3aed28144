import type { DType } from '../tensor.js';
import { describeReceived, invalidField } from './oip-errors.js';

/** Every datatype name of the Open Inference Protocol (BF16 comes from the newer proto). */
export const OIP_DATATYPES = [
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64',
  'FP16', 'BF16', 'FP32', 'FP64', 'BYTES',
] as const;

export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** The datatypes our tensors can hold: all but BF16. */
export type SupportedOipDatatype = Exclude<OipDatatype, 'BF16'>;

const TO_DTYPE: Readonly<Record<SupportedOipDatatype, DType>> = {
  BOOL: 'bool', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64',
  INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  FP16: 'float16', FP32: 'float32', FP64: 'float64', BYTES: 'string',
};

const TO_OIP: Readonly<Record<DType, SupportedOipDatatype>> = {
  bool: 'BOOL', uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64',
  int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  float16: 'FP16', float32: 'FP32', float64: 'FP64', string: 'BYTES',
};

// Why it is refused, so a client learns it is our limit, not a typo.
const UNSUPPORTED: Readonly<Record<Exclude<OipDatatype, SupportedOipDatatype>, string>> = {
  BF16: 'BF16 is not supported: onnxruntime-node cannot take bfloat16 tensors; send FP32 or FP16',
};

/** Bytes per element on the wire; null for BYTES, whose elements carry their own lengths. */
const ELEMENT_SIZE: Readonly<Record<OipDatatype, number | null>> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8,
  FP16: 2, BF16: 2, FP32: 4, FP64: 8, BYTES: null,
};

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && Object.hasOwn(ELEMENT_SIZE, value);
}

export function oipElementSize(datatype: OipDatatype): number | null {
  return ELEMENT_SIZE[datatype];
}

/** The OIP name of one of our dtypes; every dtype has one. */
export function oipDatatypeOf(dtype: DType): SupportedOipDatatype {
  return TO_OIP[dtype];
}

/**
 * Our dtype for a datatype a client sent, or INVALID_ARGUMENT naming `field`: for an unknown name,
 * and for BF16, which is valid OIP but which our tensors cannot hold.
 */
export function dtypeOfOipDatatype(datatype: unknown, field: string): DType {
  if (!isOipDatatype(datatype)) {
    const received = datatype === '' ? 'required' : `${describeReceived(datatype)} is not an OIP datatype`;
    throw invalidField(field, `${received} (one of ${OIP_DATATYPES.join(', ')})`);
  }
  if (Object.hasOwn(UNSUPPORTED, datatype)) {
    throw invalidField(field, UNSUPPORTED[datatype as keyof typeof UNSUPPORTED]);
  }
  return TO_DTYPE[datatype as SupportedOipDatatype];
}

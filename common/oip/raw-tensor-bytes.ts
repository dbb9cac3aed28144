import { bytesPerElement, tensorBytes, tensorFromBytes } from '../tensor.js';
import type { DType, Tensor } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { invalidField } from './oip-errors.js';
import { formatShape } from './tensor-shape.js';

// OIP raw data is little-endian, as typed arrays are on every host gridline runs on (x86-64, arm64).

/** Bytes a tensor of `dtype` with `count` elements takes on the wire. */
export function rawByteLength(dtype: DType, count: number): number {
  return count * bytesPerElement(dtype);
}

/**
 * A tensor over raw bytes (gRPC raw contents, REST binary data), or INVALID_ARGUMENT naming
 * `field`: when the size does not fit the shape, and for BOOL bytes other than 0 and 1. The tensor
 * is a view over `bytes` when they are aligned for the element type, a copy otherwise.
 */
export function tensorFromRaw(dtype: DType, shape: readonly number[], count: number, bytes: Uint8Array, field: string): Tensor {
  const need = rawByteLength(dtype, count);
  if (bytes.byteLength !== need) {
    throw invalidField(field, `holds ${bytes.byteLength} bytes, ${oipDatatypeOf(dtype)} shape ${formatShape(shape)} needs ${need}`);
  }
  if (dtype === 'bool') {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] ?? 0;
      if (b > 1) throw invalidField(field, `BOOL element ${i} is byte ${b}; BOOL bytes must be 0 or 1`);
    }
  }
  return tensorFromBytes(dtype, shape, bytes);
}

/** A tensor's raw bytes: a view, except for BOOL tensors holding bytes other than 0 and 1. */
export function rawBytesOf(t: Tensor): Uint8Array {
  const bytes = tensorBytes(t);
  if (t.dtype === 'bool' && bytes.some((b) => b > 1)) return bytes.map((b) => (b === 0 ? 0 : 1));
  return bytes;
}

import { bytesPerElement, parseStrings, tensor, tensorBytes, tensorFromBytes } from '../tensor.js';
import type { DType, Tensor } from '../tensor.js';
import { oipDatatypeOf } from './datatypes.js';
import { invalidField } from './oip-errors.js';
import { formatShape } from './tensor-shape.js';

// OIP raw data is little-endian, as typed arrays are on every host gridline runs on (x86-64, arm64).
// BYTES elements go back to back, each a 4-byte little-endian length then its bytes.

/** Bytes a tensor of `dtype` with `count` elements takes on the wire; null for BYTES, whose elements carry their own lengths. */
export function rawByteLength(dtype: DType, count: number): number | null {
  return dtype === 'string' ? null : count * bytesPerElement(dtype);
}

/**
 * A tensor over raw bytes (gRPC raw contents, REST binary data), or INVALID_ARGUMENT naming
 * `field`: when the size does not fit the shape, for BOOL bytes other than 0 and 1, and for BYTES
 * whose length prefixes do not add up to the shape's elements. The tensor (each BYTES element) is
 * a view over `bytes` when they are aligned for the element type, a copy otherwise.
 */
export function tensorFromRaw(dtype: DType, shape: readonly number[], count: number, bytes: Uint8Array, field: string): Tensor {
  if (dtype === 'string') {
    const elements = parseStrings(bytes, count);
    if (typeof elements === 'string') {
      throw invalidField(field, `${elements} (BYTES shape ${formatShape(shape)}; each element is a 4-byte little-endian length, then its bytes)`);
    }
    return tensor(dtype, shape, elements);
  }
  const need = count * bytesPerElement(dtype);
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

/**
 * A tensor's raw bytes: a view, except for BOOL tensors holding bytes other than 0 and 1, and for
 * BYTES tensors, whose length-prefixed form is written afresh.
 */
export function rawBytesOf(t: Tensor): Uint8Array {
  const bytes = tensorBytes(t);
  if (t.dtype === 'bool' && bytes.some((b) => b > 1)) return bytes.map((b) => (b === 0 ? 0 : 1));
  return bytes;
}

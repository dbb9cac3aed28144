import { GridlineError } from '../../common/errors.js';
import type { StringElements } from '../../common/tensor.js';

// onnxruntime-node takes and gives string tensors as JS strings, which it hands to C++ as
// NUL-terminated UTF-8: bytes that are not UTF-8 would be replaced, and a NUL would cut the
// element short. BYTES elements are checked before they reach it, so none is changed silently.

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Why `elements` cannot become onnxruntime strings unchanged, naming the first bad one; null when they can. */
export function onnxStringsProblem(elements: StringElements): string | null {
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    if (e.includes(0)) return `BYTES element ${i} holds a NUL byte, which onnxruntime strings cannot carry`;
    try {
      UTF8.decode(e);
    } catch {
      return `BYTES element ${i} is not valid UTF-8, and onnxruntime strings are UTF-8 text`;
    }
  }
  return null;
}

/** BYTES elements as onnxruntime strings; INVALID_ITEM when one cannot pass unchanged. */
export function toOnnxStrings(elements: StringElements): string[] {
  const problem = onnxStringsProblem(elements);
  if (problem !== null) throw new GridlineError('INVALID_ITEM', problem);
  return elements.map((e) => UTF8.decode(e));
}

/** onnxruntime strings as BYTES elements, all views over one buffer of their own. */
export function fromOnnxStrings(strings: readonly string[]): StringElements {
  let size = 0;
  for (const s of strings) size += Buffer.byteLength(s, 'utf8');
  const buffer = Buffer.from(new ArrayBuffer(size));
  let at = 0;
  return strings.map((s) => {
    const n = buffer.write(s, at, 'utf8');
    const element = buffer.subarray(at, at + n);
    at += n;
    return element;
  });
}

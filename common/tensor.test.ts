import { describe, expect, it } from 'vitest';
import { GridlineError } from './errors.js';
import { DTYPES, isDType, parseStrings, serializeStrings, tensor, tensorBytes, tensorFromBytes, zeros } from './tensor.js';

describe('string tensors', () => {
  const elements = ['', 'a', 'naïve ☃'].map((t) => Buffer.from(t));

  it('go to bytes as 4-byte little-endian lengths, each followed by its bytes, and back', () => {
    const t = tensor('string', [3], elements);
    const bytes = tensorBytes(t);
    expect(bytes.subarray(0, 9)).toEqual(Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 0x61]));
    expect(bytes.byteLength).toBe(3 * 4 + 1 + Buffer.byteLength('naïve ☃'));
    // In memory of their own, so the buffer can be transferred to a thread.
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
    const back = tensorFromBytes('string', [3], bytes);
    expect(back.dtype).toBe('string');
    expect((back.data as readonly Uint8Array[]).map((e) => Buffer.from(e).toString())).toEqual(['', 'a', 'naïve ☃']);
  });

  it('say what is wrong with bytes that do not hold the elements', () => {
    const bytes = serializeStrings(elements);
    expect(parseStrings(bytes, 4)).toBe('holds 3 elements, the shape needs 4');
    expect(parseStrings(bytes, 2)).toMatch(/^holds more than the 2 elements the shape needs/);
    expect(parseStrings(bytes.subarray(0, 6), 2)).toBe('element 1: its 4-byte length is cut off after 2 bytes');
    expect(parseStrings(bytes.subarray(0, bytes.length - 1), 3)).toMatch(/^element 2: its length \d+ runs past the end/);
    expect(() => tensorFromBytes('string', [4], bytes)).toThrow(GridlineError);
  });

  it('zeros are empty elements; a string tensor holds an array, a numeric one a typed array', () => {
    expect(zeros('string', [2]).data).toEqual([new Uint8Array(0), new Uint8Array(0)]);
    expect(() => tensor('string', [1], new Uint8Array(1) as unknown as Uint8Array[])).toThrow(/cannot hold a typed array/);
    expect(() => tensor('float32', [1], [new Uint8Array(0)] as unknown as Float32Array)).toThrow(/cannot hold an array/);
  });
});

describe('float16 tensors', () => {
  it('hold raw half bits, unconverted', () => {
    const t = tensorFromBytes('float16', [2], new Uint8Array([0x00, 0x3c, 0x01, 0x7e]));
    expect(t.data).toEqual(new Uint16Array([0x3c00, 0x7e01]));
    expect(tensorBytes(t)).toEqual(Buffer.from([0x00, 0x3c, 0x01, 0x7e]));
  });
});

it('knows every dtype', () => {
  expect(DTYPES).toContain('float16');
  expect(DTYPES).toContain('string');
  expect(DTYPES.every(isDType)).toBe(true);
  expect(isDType('bfloat16')).toBe(false);
});

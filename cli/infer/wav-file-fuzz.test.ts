import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { encode } from 'node-wav';
import { afterAll, describe, expect, it } from 'vitest';
import { isGridlineError } from '../../common/errors.js';
import { FuzzTally } from '../../common/fuzz-tally.js';
import { readWav } from './wav-file.js';

// gridline has no audio op among the stage services; audio enters through `gridline infer --wav`
// (readWav, then Silero VAD frames). Whatever the bytes, readWav returns samples or throws
// INVALID_ARGUMENT naming the file and the problem: never a TypeError, a RangeError or an
// allocation the header asked for.
const tally = new FuzzTally('WAV decoding (readWav, gridline infer --wav)');
afterAll(() => tally.print());

const REAL = readFileSync(new URL('../../pipelines/data/Front_Center.wav', import.meta.url));

function check(kind: string, bytes: Buffer): ReturnType<typeof readWav> | string {
  try {
    const audio = readWav(bytes, 'f.wav');
    tally.record(kind, 'ok');
    expect(audio.samples.length).toBeGreaterThan(0);
    expect(Number.isInteger(audio.sampleRate)).toBe(true);
    return audio;
  } catch (err) {
    tally.record(kind, isGridlineError(err) ? err.code : `untyped ${String(err)}`);
    expect(isGridlineError(err), String(err)).toBe(true);
    if (!isGridlineError(err)) return '';
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/^--wav f\.wav: \S/);
    return err.message;
  }
}

/** A WAV file as node-wav writes it: 44-byte header, fmt at 20, data size at 40. */
function wavOf(channels: number, frames: number, bitDepth: number, float: boolean): Buffer {
  const data = Array.from({ length: channels }, (_, c) => Float32Array.from({ length: frames }, (_, i) => Math.sin(i + c) * 0.5));
  return Buffer.from(encode(data, { sampleRate: 16000, bitDepth, float }));
}

/** `bytes` inside a larger buffer, as Buffer.from pools small copies: byteOffset > 0. */
function offsetCopy(bytes: Buffer, offset: number): Buffer {
  const big = Buffer.alloc(offset + bytes.length + 7, 0x5a);
  bytes.copy(big, offset);
  return big.subarray(offset, offset + bytes.length);
}

const formatArb = fc.constantFrom<[number, boolean]>([8, false], [16, false], [24, false], [32, false], [32, true]);

describe('readWav under bad input', () => {
  it('decodes the bundled file, and the same bytes at any offset inside a larger buffer', () => {
    const whole = check('valid file', REAL);
    expect(typeof whole).toBe('object');
    fc.assert(fc.property(fc.integer({ min: 1, max: 4096 }), (offset) => {
      const audio = check('valid file at a byteOffset', offsetCopy(REAL.subarray(0, 4096), offset));
      expect(typeof audio).toBe('object');
    }), { numRuns: 100 });
  });

  it('random bytes, with and without a RIFF/WAVE prefix', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, prefixed) => {
      const body = Buffer.from(bytes);
      check('random bytes', prefixed ? Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE'), body]) : body);
    }), { numRuns: 1500 });
  });

  it('valid files with header fields overwritten (format, channels, block size, bits, chunk sizes)', () => {
    // Offsets of node-wav's layout: fmt size 16, format 20, channels 22, rate 24, block 32, bits 34, data size 40.
    const field = fc.constantFrom<[number, 2 | 4]>([4, 4], [16, 4], [20, 2], [22, 2], [24, 4], [28, 4], [32, 2], [34, 2], [36, 4], [40, 4]);
    const value = fc.oneof(fc.constantFrom(0, 1, 2, 3, 8, 0xfffe, 0xffff, 0x7fffffff, 0xffffffff, 64, 65535), fc.nat());
    fc.assert(fc.property(formatArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 40 }), field, value, fc.integer({ min: 0, max: 9 }), ([bits, float], channels, frames, [at, width], v, offset) => {
      const bytes = wavOf(channels, frames, bits, float);
      if (width === 2) bytes.writeUInt16LE(v & 0xffff, at);
      else bytes.writeUInt32LE(v >>> 0, at);
      check('header field overwritten', offset === 0 ? bytes : offsetCopy(bytes, offset));
    }), { numRuns: 1500 });
  });

  it('valid files truncated, with bytes flipped, or with extra chunks', () => {
    fc.assert(fc.property(formatArb, fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 30 }), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.boolean(), ([bits, float], channels, frames, cut, flips, extraChunk) => {
      let bytes = wavOf(channels, frames, bits, float);
      for (const [at, b] of flips) bytes[at % bytes.length] = b;
      if (extraChunk) bytes = Buffer.concat([bytes.subarray(0, 12), Buffer.from('LIST\x05\0\0\0abcde\0', 'latin1'), bytes.subarray(12)]);
      check('truncated / flipped / extra chunk', bytes.subarray(0, cut % (bytes.length + 1)));
    }), { numRuns: 1500 });
  });

  it('headers that declare gigabytes of samples or 65535 channels', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(8, 16, 24, 32), fc.constantFrom(0xffffffff, 0x7fffffff, 2 ** 31 + 7), (channels, bits, dataSize) => {
      const bytes = wavOf(1, 8, bits, false);
      bytes.writeUInt16LE(channels, 22);
      bytes.writeUInt16LE((channels * bits / 8) & 0xffff, 32);
      bytes.writeUInt32LE(dataSize >>> 0, 40);
      const result = check('huge declared size / channels', bytes);
      // Nothing beyond the bytes present is ever decoded.
      if (typeof result === 'object') expect(result.samples.length).toBeLessThanOrEqual(8);
    }), { numRuns: 300 });
  });
});

import { decode } from 'node-wav';
import { GridlineError } from '../../common/errors.js';

/** Mono samples in [-1, 1]. */
export interface Audio {
  readonly sampleRate: number;
  readonly samples: Float32Array;
}

/**
 * Decodes a WAV file (PCM 8-32 bit or float) and mixes it down to mono. The one importer of node-wav.
 * The chunks are checked here first (node-wav trusts every size and count in the header, returns
 * nothing for a Buffer that starts inside a larger one, and would allocate what a data chunk of
 * 4 GiB declares), so any bytes give INVALID_ARGUMENT naming the problem, never another error.
 */
export function readWav(bytes: Buffer, name: string): Audio {
  const problem = (what: string): GridlineError => new GridlineError('INVALID_ARGUMENT', `--wav ${name}: not a WAV file gridline can read: ${what}`);
  const wav = checkWav(bytes);
  if (typeof wav === 'string') throw problem(wav);
  let decoded: ReturnType<typeof decode>;
  try {
    decoded = decode(wav);
  } catch (err) {
    throw problem(err instanceof Error ? err.message : String(err));
  }
  const channels = decoded.channelData;
  const length = channels[0]?.length ?? 0;
  if (channels.length === 0 || length === 0) throw new GridlineError('INVALID_ARGUMENT', `--wav ${name}: the file holds no samples`);
  if (channels.length === 1) return { sampleRate: decoded.sampleRate, samples: channels[0]! };
  const mono = new Float32Array(length);
  for (const ch of channels) for (let i = 0; i < length; i++) mono[i]! += ch[i]! / channels.length;
  return { sampleRate: decoded.sampleRate, samples: mono };
}

const SUPPORTED_FORMATS = new Set(['1:8', '1:16', '1:24', '1:32', '3:32', '3:64']);

/**
 * Walks the RIFF chunks with bounds checks and returns the file rewritten as node-wav reads it
 * safely: its own ArrayBuffer, the fmt chunk, then the data chunk cut to whole frames and to the
 * bytes present (streaming writers leave the size at 0xFFFFFFFF), its samples 8-byte aligned.
 * A string says what is wrong.
 */
function checkWav(bytes: Uint8Array): Buffer | string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return 'no RIFF/WAVE header';
  let fmt: Uint8Array | null = null;
  for (let at = 12; at + 8 <= bytes.byteLength;) {
    const type = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (type === 'fmt ') {
      if (size < 16 || body + 16 > bytes.byteLength) return `the fmt chunk holds ${Math.min(size, bytes.byteLength - body)} bytes, fewer than 16`;
      fmt = bytes.subarray(body, body + 16);
      const format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const blockSize = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      if (!SUPPORTED_FORMATS.has(`${format}:${bits}`)) return `format ${format} with ${bits} bits per sample is not supported (PCM 8/16/24/32 bit or float 32/64 bit)`;
      if (channels === 0) return 'the fmt chunk declares 0 channels';
      if (blockSize !== channels * (bits / 8)) return `the fmt chunk declares ${blockSize} bytes per frame, but ${channels} channels of ${bits} bits take ${channels * (bits / 8)}`;
    } else if (type === 'data') {
      if (fmt === null) return 'the data chunk comes before the fmt chunk';
      const blockSize = new DataView(fmt.buffer, fmt.byteOffset).getUint16(12, true);
      const present = Math.min(size, bytes.byteLength - body);
      const length = present - (present % blockSize);
      // RIFF(12) fmt(8+16) pad(8+4) data(8): the samples start at 56, a multiple of 8.
      const out = new Uint8Array(56 + length);
      const o = new DataView(out.buffer);
      out.set(Buffer.from('RIFF'), 0);
      o.setUint32(4, out.byteLength - 8, true);
      out.set(Buffer.from('WAVEfmt '), 8);
      o.setUint32(16, 16, true);
      out.set(fmt, 20);
      out.set(Buffer.from('pad '), 36);
      o.setUint32(40, 4, true);
      out.set(Buffer.from('data'), 48);
      o.setUint32(52, length, true);
      out.set(bytes.subarray(body, body + length), 56);
      return Buffer.from(out.buffer);
    }
    // Chunks are padded to an even size.
    at = body + size + (size % 2);
  }
  return fmt === null ? 'no fmt chunk' : 'no data chunk';
}

/** Linear-interpolation resampling: enough for voice activity at 8/16 kHz. */
export function resample(audio: Audio, rate: number): Float32Array {
  if (audio.sampleRate === rate) return audio.samples;
  const ratio = audio.sampleRate / rate;
  const out = new Float32Array(Math.floor(audio.samples.length / ratio));
  for (let i = 0; i < out.length; i++) {
    const at = i * ratio;
    const j = Math.floor(at);
    const f = at - j;
    const a = audio.samples[j] ?? 0;
    const b = audio.samples[j + 1] ?? a;
    out[i] = a + (b - a) * f;
  }
  return out;
}

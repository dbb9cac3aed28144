import { decode } from 'node-wav';
import { GridlineError } from '../../common/errors.js';

/** Mono samples in [-1, 1]. */
export interface Audio {
  readonly sampleRate: number;
  readonly samples: Float32Array;
}

/** Decodes a WAV file (PCM 8-32 bit or float) and mixes it down to mono. The one importer of node-wav. */
export function readWav(bytes: Buffer, name: string): Audio {
  let decoded: ReturnType<typeof decode>;
  try {
    decoded = decode(bytes);
  } catch (err) {
    throw new GridlineError('INVALID_ARGUMENT', `--wav ${name}: not a WAV file gridline can read: ${(err as Error).message}`);
  }
  const channels = decoded.channelData;
  const length = channels[0]?.length ?? 0;
  if (channels.length === 0 || length === 0) throw new GridlineError('INVALID_ARGUMENT', `--wav ${name}: the file holds no samples`);
  if (channels.length === 1) return { sampleRate: decoded.sampleRate, samples: channels[0]! };
  const mono = new Float32Array(length);
  for (const ch of channels) for (let i = 0; i < length; i++) mono[i]! += ch[i]! / channels.length;
  return { sampleRate: decoded.sampleRate, samples: mono };
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

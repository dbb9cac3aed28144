import { readFile } from 'node:fs/promises';
import { GridlineError } from '../../common/errors.js';
import { oipDatatypeOf } from '../../common/oip/datatypes.js';
import type { InferResponse } from '../../common/oip/infer-messages.js';
import type { Tensor } from '../../common/tensor.js';
import type { GatewayClient } from '../infer/gateway-client.js';
import { imageInput, PIXEL_SCALES, type PixelScale } from '../infer/image-input.js';
import { checkVadModel, runVad, VAD_SAMPLE_RATE } from '../infer/silero-vad.js';
import { readWav, resample } from '../infer/wav-file.js';

export interface InferCommandOptions {
  readonly version?: string;
  readonly input?: string;
  readonly image?: string;
  readonly wav?: string;
  readonly scale: string;
  readonly output: readonly string[];
  readonly json?: boolean;
}

async function readArg(path: string, flag: string): Promise<Buffer> {
  return readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new GridlineError('INVALID_ARGUMENT', `${flag} ${path}: cannot read it (${err.code ?? err.message})`);
  });
}

/**
 * `gridline infer MODEL`: calls a served model through the gateway and prints its outputs.
 * `--input FILE.json` sends an OIP inference request body as written; `--image FILE` turns an
 * image into the model's 4-D input; `--wav FILE` streams audio through a Silero VAD model.
 */
export async function inferCommand(model: string, options: InferCommandOptions, client: GatewayClient): Promise<number> {
  const given = [options.input, options.image, options.wav].filter((x) => x !== undefined).length;
  if (given !== 1) throw new GridlineError('INVALID_ARGUMENT', 'give exactly one of --input FILE.json, --image FILE or --wav FILE');
  const outputs = options.output.length > 0 ? { outputs: options.output } : {};
  let response: InferResponse;
  if (options.input !== undefined) {
    const text = (await readArg(options.input, '--input')).toString('utf8');
    response = await client.inferJson(model, options.version, text);
  } else if (options.image !== undefined) {
    if (!PIXEL_SCALES.includes(options.scale as PixelScale)) throw new GridlineError('INVALID_ARGUMENT', `--scale must be one of ${PIXEL_SCALES.join(', ')}, got "${options.scale}"`);
    const meta = await client.metadata(model, options.version);
    const [input, ...more] = meta.inputs;
    if (input === undefined || more.length > 0) throw new GridlineError('INVALID_ARGUMENT', `--image needs a model with one input; ${model} has ${meta.inputs.length} (${meta.inputs.map((i) => i.name).join(', ')}): use --input`);
    const x = await imageInput(await readArg(options.image, '--image'), input.shape, options.scale as PixelScale, input.name);
    response = await client.infer(model, options.version, [{ name: input.name, tensor: x }], outputs);
  } else {
    const meta = await client.metadata(model, options.version);
    checkVadModel(meta);
    const audio = readWav(await readArg(options.wav!, '--wav'), options.wav!);
    const result = await runVad(client, model, options.version, resample(audio, VAD_SAMPLE_RATE));
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    const seconds = audio.samples.length / audio.sampleRate;
    process.stdout.write(`${options.wav}: ${seconds.toFixed(2)} s at ${audio.sampleRate} Hz, ${result.probabilities.length} frames through ${model}\n`);
    if (result.segments.length === 0) process.stdout.write('no speech found\n');
    for (const s of result.segments) process.stdout.write(`speech ${s.start.toFixed(2)} s – ${s.end.toFixed(2)} s\n`);
    const peak = Math.max(...result.probabilities);
    process.stdout.write(`peak speech probability ${peak.toFixed(3)}\n`);
    return 0;
  }
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify({
      model_name: response.modelName, model_version: response.modelVersion, id: response.id,
      outputs: response.outputs.map((o) => ({ name: o.name, datatype: oipDatatypeOf(o.tensor.dtype), shape: o.tensor.shape, data: values(o.tensor) })),
    })}\n`);
    return 0;
  }
  process.stdout.write(`model ${response.modelName}${response.modelVersion ? ` version ${response.modelVersion}` : ''}\n`);
  for (const o of response.outputs) process.stdout.write(describeOutput(o.name, o.tensor));
  return 0;
}

/** IEEE 754 half-precision bits as a number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Printable values: FP16 as numbers, BYTES as UTF-8 text (base64 when not UTF-8), 64-bit integers as decimal strings. */
function values(t: Tensor): (number | string | boolean)[] {
  if (t.dtype === 'string') {
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    return Array.from(t.data, (bytes) => {
      try {
        return utf8.decode(bytes);
      } catch {
        return `base64:${Buffer.from(bytes).toString('base64')}`;
      }
    });
  }
  if (t.dtype === 'float16') return Array.from(t.data as Uint16Array, halfToNumber);
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** `name DATATYPE [shape]`, the values (the first 16 of a large tensor), and per-row argmax for a [N,K] float output. */
function describeOutput(name: string, t: Tensor): string {
  const all = values(t);
  const shown = all.slice(0, 16).map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(5) : typeof v === 'string' && t.dtype === 'string' ? JSON.stringify(v) : String(v)));
  let text = `  ${name} ${oipDatatypeOf(t.dtype)} [${t.shape.join(',')}]: ${shown.join(' ')}${all.length > 16 ? ` … (${all.length} values)` : ''}\n`;
  const [rows, cols] = t.shape;
  if (t.shape.length === 2 && (t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16') && rows !== undefined && cols !== undefined && cols > 1 && rows <= 16) {
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let k = 1; k < cols; k++) if ((all[r * cols + k] as number) > (all[r * cols + best] as number)) best = k;
      text += `    row ${r}: argmax ${best} (${(all[r * cols + best] as number).toPrecision(4)})\n`;
    }
  }
  return text;
}

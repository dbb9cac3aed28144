import { GridlineError } from '../../../common/errors.js';
import { tensor } from '../../../common/tensor.js';
import { readImage } from '../image-tensor.js';
import type { OpFactory, OpParams } from '../op.js';

/** Per-channel values: one value applies to every channel, otherwise one per channel. */
function perChannel(values: readonly number[], channels: number, name: string, where: string): number[] {
  if (values.length === 1) return new Array<number>(channels).fill(values[0] ?? 0);
  if (values.length !== channels) {
    throw new GridlineError('INVALID_ITEM', `${where}: image.normalize ${name} has ${values.length} values but the image has ${channels} channels`);
  }
  return [...values];
}

/** image.normalize: uint8 [H,W,C] in `from` → float32 [1,C,H,W] in `to`, (x*scale - mean[c]) / std[c]. */
export const imageNormalizeOp: OpFactory<OpParams<'image.normalize'>> = {
  name: 'image.normalize',
  create({ from, to, scale, mean, std }) {
    return {
      name: 'image.normalize',
      async apply(item) {
        const { image, dims } = await readImage(item, from);
        const { height, width, channels } = dims;
        const where = `item ${item.key} field "${from}"`;
        const m = perChannel(mean, channels, 'mean', where);
        const s = perChannel(std, channels, 'std', where);
        const src = image.data as Uint8Array;
        const plane = height * width;
        const out = new Float32Array(channels * plane);
        for (let c = 0; c < channels; c++) {
          // (x*scale - mean)/std folded into one multiply-add.
          const a = scale / (s[c] ?? 1);
          const b = -(m[c] ?? 0) / (s[c] ?? 1);
          const base = c * plane;
          for (let i = 0, j = c; i < plane; i++, j += channels) out[base + i] = (src[j] ?? 0) * a + b;
        }
        item.setTensor(to, tensor('float32', [1, channels, height, width], out));
      },
    };
  },
};

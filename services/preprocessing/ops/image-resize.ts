import { GridlineError } from '../../../common/errors.js';
import { sharpImageCodec } from '../image-codec.js';
import { readImage } from '../image-tensor.js';
import type { OpFactory, OpParams } from '../op.js';

type Params = OpParams<'image.resize'>;

/** Rounds a side to the nearest multiple of `m`, never below `m` (PaddleOCR's det resize). */
function roundTo(side: number, m: number): number {
  return Math.max(m, Math.round(side / m) * m);
}

/** The output size for an input of width × height under the op's params. */
export function targetSize(width: number, height: number, p: Params): { width: number; height: number } {
  let w = width;
  let h = height;
  if (p.maxSide !== undefined) {
    // limit_type "max": only shrink, and only when the longer side is over the limit.
    const longer = Math.max(width, height);
    if (longer > p.maxSide) {
      const ratio = p.maxSide / longer;
      w = width * ratio;
      h = height * ratio;
    }
  } else if (p.width !== undefined && p.height !== undefined) {
    w = p.width;
    h = p.height;
  } else if (p.width !== undefined) {
    w = p.width;
    h = (height * p.width) / width;
  } else if (p.height !== undefined) {
    h = p.height;
    w = (width * p.height) / height;
  }
  return { width: roundTo(Math.max(1, Math.round(w)), p.multipleOf), height: roundTo(Math.max(1, Math.round(h)), p.multipleOf) };
}

/** image.resize: a uint8 [H,W,C] image in `from` → resized image in `to` (default: in place). */
export const imageResizeOp: OpFactory<Params> = {
  name: 'image.resize',
  create(params) {
    if (params.maxSide !== undefined && (params.width !== undefined || params.height !== undefined)) {
      throw new GridlineError('INVALID_PIPELINE', 'image.resize: give either maxSide or width/height, not both');
    }
    const to = params.to ?? params.from;
    return {
      name: 'image.resize',
      async apply(item) {
        const { image, dims } = await readImage(item, params.from);
        const size = targetSize(dims.width, dims.height, params);
        const out = size.width === dims.width && size.height === dims.height
          ? image
          : await sharpImageCodec.resize(image, size.width, size.height);
        item.setTensor(to, out);
      },
    };
  },
};

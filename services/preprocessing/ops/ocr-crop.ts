import { tensor } from '../../../common/tensor.js';
import { sharpImageCodec } from '../image-codec.js';
import { readImage } from '../image-tensor.js';
import type { OpFactory, OpParams } from '../op.js';
import { getLineRects } from '../text-lines.js';

/**
 * ocr.crop: the recognition batch for the boxes in meta.lines: each box cut from `image`,
 * resized to `height` keeping its aspect ratio, normalized ((x/255 - mean)/std) and padded with 0
 * on the right to a common width, as PaddleOCR's resize_norm_img does. Output: float32
 * [N,3,height,W] in `to`, W = max(minWidth, widest crop); N = 0 gives [0,3,height,minWidth].
 * Vertical text (which PaddleOCR rotates by 90°) is not handled.
 */
export const ocrCropOp: OpFactory<OpParams<'ocr.crop'>> = {
  name: 'ocr.crop',
  create(p) {
    const a = 1 / (255 * p.std);
    const b = -p.mean / p.std;
    return {
      name: 'ocr.crop',
      async apply(item) {
        const rects = getLineRects(item);
        const { image, dims } = await readImage(item, p.image);
        const crops = await Promise.all(rects.map((r) => {
          // Keep at least one pixel inside the image: degenerate boxes still yield a (blank) line.
          const left = Math.min(Math.max(0, Math.floor(r.x1)), dims.width - 1);
          const top = Math.min(Math.max(0, Math.floor(r.y1)), dims.height - 1);
          const width = Math.max(1, Math.min(Math.ceil(r.x2), dims.width) - left);
          const height = Math.max(1, Math.min(Math.ceil(r.y2), dims.height) - top);
          const outWidth = Math.max(1, Math.min(p.maxWidth, Math.ceil((p.height * width) / height)));
          return sharpImageCodec.extractResize(image, { left, top, width, height }, outWidth, p.height);
        }));
        const batchWidth = Math.max(p.minWidth, ...crops.map((c) => c.shape[1] ?? 0));
        const plane = p.height * batchWidth;
        const out = new Float32Array(crops.length * 3 * plane);
        crops.forEach((crop, i) => {
          const [h = 0, w = 0, ch = 0] = crop.shape;
          const src = crop.data as Uint8Array;
          for (let c = 0; c < 3; c++) {
            // Greyscale images have one channel: repeat it.
            const sc = Math.min(c, ch - 1);
            const base = (i * 3 + c) * plane;
            for (let y = 0; y < h; y++) {
              const row = base + y * batchWidth;
              for (let x = 0, j = y * w * ch + sc; x < w; x++, j += ch) out[row + x] = (src[j] ?? 0) * a + b;
            }
          }
        });
        item.setTensor(p.to, tensor('float32', [crops.length, 3, p.height, batchWidth], out));
      },
    };
  },
};

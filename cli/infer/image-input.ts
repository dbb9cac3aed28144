import { GridlineError } from '../../common/errors.js';
import { tensor, type Tensor } from '../../common/tensor.js';
import { sharpImageCodec } from '../../services/preprocessing/image-codec.js';

/** How pixel values become model inputs. */
export type PixelScale = 'unit' | 'symmetric' | 'imagenet' | 'raw';

export const PIXEL_SCALES: readonly PixelScale[] = ['unit', 'symmetric', 'imagenet', 'raw'];

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * An image file as the input a vision model declares: FP32 [1,3,H,W] (NCHW) or [1,H,W,3] (NHWC),
 * the layout read from where the 3 is; fixed H and W from the metadata (a variable one keeps the
 * image's own size, rounded to a multiple of 32). `scale`: unit [0,1], symmetric [-1,1] (PP-OCR's
 * classifier and recognizer), imagenet mean/std, or raw 0..255.
 */
export async function imageInput(bytes: Uint8Array, shape: readonly number[], scale: PixelScale, inputName: string): Promise<Tensor> {
  if (shape.length !== 4) throw new GridlineError('INVALID_ARGUMENT', `--image: input "${inputName}" has shape [${shape.join(',')}]; an image needs a 4-D input ([N,3,H,W] or [N,H,W,3])`);
  const nchw = shape[1] === 3;
  if (!nchw && shape[3] !== 3) throw new GridlineError('INVALID_ARGUMENT', `--image: input "${inputName}" [${shape.join(',')}] has no 3-channel dimension at 1 (NCHW) or 3 (NHWC)`);
  let image: Tensor;
  try {
    image = await sharpImageCodec.decode(bytes);
  } catch (err) {
    throw new GridlineError('INVALID_ARGUMENT', `--image: cannot decode the file: ${(err as Error).message}`);
  }
  const [imgH = 0, imgW = 0] = image.shape;
  const round32 = (n: number): number => Math.max(32, Math.round(n / 32) * 32);
  const wantH = (nchw ? shape[2] : shape[1]) ?? -1;
  const wantW = (nchw ? shape[3] : shape[2]) ?? -1;
  const height = wantH > 0 ? wantH : round32(imgH);
  const width = wantW > 0 ? wantW : round32(imgW);
  const resized = await sharpImageCodec.resize(image, width, height);
  const pixels = resized.data as Uint8Array;
  const out = new Float32Array(3 * height * width);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[p * 3 + c]!;
      const x = scale === 'raw' ? v
        : scale === 'unit' ? v / 255
          : scale === 'symmetric' ? (v / 255 - 0.5) / 0.5
            : (v / 255 - IMAGENET.mean[c]!) / IMAGENET.std[c]!;
      out[nchw ? c * plane + p : p * 3 + c] = x;
    }
  }
  return tensor('float32', nchw ? [1, 3, height, width] : [1, height, width, 3], out);
}

import sharp, { type Sharp } from 'sharp';
import { GridlineError } from '../../common/errors.js';
import { tensor, type Tensor } from '../../common/tensor.js';

/** A pixel rectangle inside an image. */
export interface Region {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Image decoding and resampling over raw uint8 [H,W,C] tensors. The one place that knows the
 * imaging library (sharp): nothing else imports it.
 */
export interface ImageCodec {
  /** Decodes PNG/JPEG/WebP/... bytes into RGB uint8 [H,W,3]; throws on corrupt input. */
  decode(bytes: Uint8Array): Promise<Tensor>;
  /** Resizes a uint8 [H,W,C] image to exactly width × height (bilinear). */
  resize(image: Tensor, width: number, height: number): Promise<Tensor>;
  /** Cuts `region` out of a uint8 [H,W,C] image and resizes it to width × height. */
  extractResize(image: Tensor, region: Region, width: number, height: number): Promise<Tensor>;
}

function rawInput(image: Tensor): Sharp {
  const [height, width, channels] = image.shape;
  if (image.dtype !== 'uint8' || image.shape.length !== 3 || channels === undefined || channels < 1 || channels > 4) {
    throw new GridlineError(
      'INVALID_ITEM',
      `expected a uint8 [H,W,C] image with 1 to 4 channels, got ${image.dtype} [${image.shape.join(',')}]`,
    );
  }
  const data = image.data as Uint8Array;
  return sharp(data, { raw: { width: width ?? 0, height: height ?? 0, channels: channels as 1 | 2 | 3 | 4 } });
}

async function toTensor(pipeline: Sharp): Promise<Tensor> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  // A view over sharp's buffer, not a copy.
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return tensor('uint8', [info.height, info.width, info.channels], bytes);
}

// Bilinear, as PaddleOCR's cv2.resize default; the models were trained on such inputs.
const KERNEL = sharp.kernel.linear;

/**
 * Most pixels an encoded image may declare (8192 x 8192, 192 MiB as RGB). A few hundred bytes of
 * PNG or JPEG can declare 2^31 pixels; the header is checked before anything is decoded, so such
 * a decompression bomb is refused instead of allocated. (sharp's own default is 4x larger.)
 */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

/**
 * Formats decoded: raster only. sharp also reads SVG (and, with its libvips, PDF and more), and an
 * SVG may reference other files or URLs: an item must never make a worker read something else.
 */
const RASTER_FORMATS: ReadonlySet<string> = new Set(['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif', 'heif']);

export const sharpImageCodec: ImageCodec = {
  async decode(bytes) {
    const { width, height, pages, format } = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
    if (!RASTER_FORMATS.has(format)) {
      throw new GridlineError('INVALID_ITEM', `the image is ${format}, not one of ${[...RASTER_FORMATS].join(', ')}`);
    }
    const pixels = (width ?? 0) * (height ?? 0) * (pages ?? 1);
    if (pixels > MAX_IMAGE_PIXELS) {
      throw new GridlineError('INVALID_ITEM', `the image declares ${width}x${height} pixels${(pages ?? 1) > 1 ? ` on ${pages} pages` : ''}, more than the limit of ${MAX_IMAGE_PIXELS} (8192x8192)`);
    }
    // rotate(): apply EXIF orientation. flatten: transparent pixels become white, not black,
    // which keeps text on transparent PNGs readable.
    const pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb');
    const decoded = await toTensor(pipeline);
    if (decoded.shape[2] !== 3) {
      throw new GridlineError('INVALID_ITEM', `image decoded to ${decoded.shape[2]} channels, expected 3 (RGB)`);
    }
    return decoded;
  },

  async resize(image, width, height) {
    return toTensor(rawInput(image).resize(width, height, { fit: 'fill', kernel: KERNEL }));
  },

  async extractResize(image, region, width, height) {
    return toTensor(rawInput(image).extract(region).resize(width, height, { fit: 'fill', kernel: KERNEL }));
  },
};

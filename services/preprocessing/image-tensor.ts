import { GridlineError } from '../../common/errors.js';
import type { Item } from '../../common/item.js';
import type { Tensor } from '../../common/tensor.js';

/** Height, width and channels of an image tensor. */
export interface ImageDims {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Reads field `field` of `item` and checks it is a non-empty uint8 [H,W,C] image. */
export async function readImage(item: Item, field: string): Promise<{ image: Tensor; dims: ImageDims }> {
  const image = await item.tensor(field);
  const [height, width, channels] = image.shape;
  if (
    image.dtype !== 'uint8' || height === undefined || width === undefined || channels === undefined ||
    image.shape.length !== 3 || height < 1 || width < 1 || channels < 1 || channels > 4
  ) {
    throw new GridlineError(
      'INVALID_ITEM',
      `field "${field}" of item ${item.key}: expected a uint8 [H,W,C] image (C 1-4), got ${image.dtype} [${image.shape.join(',')}]`,
    );
  }
  return { image, dims: { height, width, channels } };
}

import { GridlineError } from '../../../common/errors.js';
import { sharpImageCodec } from '../image-codec.js';
import type { OpFactory, OpParams } from '../op.js';

/** image.decode: encoded bytes in `from` → RGB uint8 [H,W,3] in `to`, and meta.image = {width, height}. */
export const imageDecodeOp: OpFactory<OpParams<'image.decode'>> = {
  name: 'image.decode',
  create({ from, to }) {
    return {
      name: 'image.decode',
      async apply(item) {
        const bytes = await item.bytes(from);
        let image;
        try {
          image = await sharpImageCodec.decode(bytes);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          throw new GridlineError(
            'INVALID_ITEM',
            `item ${item.key}: field "${from}" (${bytes.byteLength} bytes) is not a decodable image: ${reason}`,
            { cause: err },
          );
        }
        const [height, width] = image.shape;
        item.setTensor(to, image);
        item.meta['image'] = { width: width ?? 0, height: height ?? 0 };
      },
    };
  },
};

import { GridlineError } from '../../../common/errors.js';
import { findTextBoxes } from '../db-postprocess.js';
import { readImage } from '../image-tensor.js';
import type { OpFactory, OpParams } from '../op.js';
import { rectToBox } from '../text-lines.js';

/**
 * ocr.boxes: text boxes from a DB probability map [1,1,h,w] in `from`, scaled to the image in
 * `image`; writes meta.lines = [{ box }]. Axis-aligned boxes only (see findTextBoxes).
 */
export const ocrBoxesOp: OpFactory<OpParams<'ocr.boxes'>> = {
  name: 'ocr.boxes',
  create(p) {
    return {
      name: 'ocr.boxes',
      async apply(item) {
        const map = await item.tensor(p.from);
        const [n, c, h, w] = map.shape;
        if (map.dtype !== 'float32' || map.shape.length !== 4 || n !== 1 || c !== 1 || h === undefined || w === undefined) {
          throw new GridlineError(
            'INVALID_ITEM',
            `item ${item.key}: field "${p.from}" must be a float32 [1,1,h,w] probability map, got ${map.dtype} [${map.shape.join(',')}]`,
          );
        }
        const { dims } = await readImage(item, p.image);
        const rects = h === 0 || w === 0 ? [] : findTextBoxes(map.data as Float32Array, w, h, {
          threshold: p.threshold,
          boxThreshold: p.boxThreshold,
          unclipRatio: p.unclipRatio,
          minSize: p.minSize,
          maxBoxes: p.maxBoxes,
          imageWidth: dims.width,
          imageHeight: dims.height,
        });
        item.meta['lines'] = rects.map((r) => ({ box: rectToBox(r) }));
      },
    };
  },
};

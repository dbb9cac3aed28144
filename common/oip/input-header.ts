import type { DType } from '../tensor.js';
import { dtypeOfOipDatatype } from './datatypes.js';
import type { ElementBudget } from './element-budget.js';
import { readShape } from './tensor-shape.js';
import { readUniqueName } from './unique-name.js';

/** What every input tensor declares before its data, whichever protocol carried it. */
export interface InputHeader {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Element count, already charged against the request's limit. */
  readonly count: number;
}

/**
 * Checks an input's name (present, unique), datatype (known and supported) and shape, and charges
 * its element count to `budget`, all before its data is looked at. `decimalShape` also takes
 * dimensions as decimal strings (protobuf int64).
 */
export function readInputHeader(
  input: Readonly<Record<string, unknown>>,
  field: string,
  seen: Map<string, string>,
  budget: ElementBudget,
  decimalShape: boolean,
): InputHeader {
  const name = readUniqueName(input['name'], `${field}.name`, seen);
  const dtype = dtypeOfOipDatatype(input['datatype'], `${field}.datatype`);
  const shape = readShape(input['shape'], `${field}.shape`, decimalShape);
  const count = budget.take(shape, `${field}.shape`);
  return { name, dtype, shape, count };
}

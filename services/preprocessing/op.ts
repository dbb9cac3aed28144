import type { z } from 'zod';
import type { Item } from '../../common/item.js';
import type { OP_DECLARATIONS } from '../../common/ops/declarations.js';
import type { Logger } from '../../common/logger.js';
import type { FileAccess } from '../file-access/file-access.js';

/** What an op may use besides its params: provided by the stage runner. */
export interface OpContext {
  readonly logger: Logger;
  /** Resolves a `npm:`, `file:` or plain URI to an absolute local path (vocabularies, models). */
  resolveUri(uri: string): string;
  /** The worker's folders for custom op modules (`module` ops); absent or none: such ops are refused. */
  readonly fileAccess?: FileAccess;
}

/** One configured step applied to each item, in place. */
export interface Op {
  readonly name: string;
  apply(item: Item): Promise<void>;
  close?(): Promise<void>;
}

/** Creates an op from params already validated by the op's declaration schema. */
export interface OpFactory<P = unknown> {
  readonly name: string;
  create(params: P, ctx: OpContext): Op | Promise<Op>;
}

type Declaration = (typeof OP_DECLARATIONS)[number];

/** Params of the built-in op `N`, as its declaration schema outputs them (defaults filled in). */
export type OpParams<N extends Declaration['name']> = z.output<Extract<Declaration, { name: N }>['params']>;

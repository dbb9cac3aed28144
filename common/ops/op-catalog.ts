import type { z } from 'zod';

/**
 * The declaration of a named op: its parameter schema, without its implementation.
 * The coordinator validates pipelines against these (it must not import services/); the worker
 * pairs each name with an implementation in services/preprocessing/op-registry.ts, and a test
 * checks that both lists name the same ops.
 */
export interface OpDeclaration<P extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly summary: string;
  readonly params: P;
}

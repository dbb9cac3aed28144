import type { z } from 'zod';

/**
 * The item fields an op touches, given its params. Pipeline validation walks these in stage order
 * to catch an op reading a field that nothing earlier wrote. Meta keys (e.g. `lines`) are not fields.
 */
export interface OpFieldAccess {
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly deletes?: readonly string[];
}

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
  /** Fields read, written and deleted, from params the schema already validated and defaulted. */
  // Method syntax on purpose: each entry annotates its own params type, checked bivariantly.
  io(params: z.output<P>): OpFieldAccess;
}

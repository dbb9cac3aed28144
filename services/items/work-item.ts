import { GridlineError } from '../../common/errors.js';
import type { Item } from '../../common/item.js';
import type { JsonObject } from '../../common/json.js';
import type { Tensor } from '../../common/tensor.js';

/** A field as it sits in an item: loaded, or a reference not fetched yet. */
export type FieldSlot<Ref> =
  | { readonly state: 'tensor'; readonly value: Tensor; readonly dirty: boolean }
  | { readonly state: 'bytes'; readonly value: Buffer; readonly dirty: boolean }
  | { readonly state: 'ref'; readonly ref: Ref; readonly kind: 'tensor' | 'bytes' };

/** Fetches a referenced field on first use (from the claim-check store). */
export interface FieldLoader<Ref> {
  load(ref: Ref, kind: 'tensor' | 'bytes'): Promise<Tensor | Buffer>;
}

/**
 * The Item implementation stage code runs against. Fields arriving as references are fetched
 * only when read; fields never read or written are handed on as the same reference.
 */
export class WorkItem<Ref = never> implements Item {
  readonly id: string;
  readonly key: string;
  readonly meta: JsonObject;
  private readonly slots = new Map<string, FieldSlot<Ref>>();
  private readonly loader: FieldLoader<Ref> | null;

  constructor(init: { id: string; key: string; meta?: JsonObject; loader?: FieldLoader<Ref> }) {
    this.id = init.id;
    this.key = init.key;
    this.meta = init.meta ?? {};
    this.loader = init.loader ?? null;
  }

  /** Attaches a not-yet-loaded field (used when decoding a job). */
  attachRef(field: string, kind: 'tensor' | 'bytes', ref: Ref): void {
    this.slots.set(field, { state: 'ref', ref, kind });
  }

  has(field: string): boolean {
    return this.slots.has(field);
  }

  fieldNames(): string[] {
    return [...this.slots.keys()];
  }

  /** Every field with its current slot, for encoding the item onto the next queue. */
  entries(): IterableIterator<[string, FieldSlot<Ref>]> {
    return this.slots.entries();
  }

  async tensor(field: string): Promise<Tensor> {
    const value = await this.resolve(field, 'tensor');
    return value as Tensor;
  }

  async bytes(field: string): Promise<Buffer> {
    const value = await this.resolve(field, 'bytes');
    return value as Buffer;
  }

  setTensor(field: string, value: Tensor): void {
    this.slots.set(field, { state: 'tensor', value, dirty: true });
    this.refs.delete(field);
  }

  setBytes(field: string, value: Buffer): void {
    this.slots.set(field, { state: 'bytes', value, dirty: true });
    this.refs.delete(field);
  }

  delete(field: string): void {
    this.slots.delete(field);
    this.refs.delete(field);
  }

  private async resolve(field: string, kind: 'tensor' | 'bytes'): Promise<Tensor | Buffer> {
    const slot = this.slots.get(field);
    if (slot === undefined) {
      const known = this.fieldNames();
      throw new GridlineError(
        'INVALID_ITEM',
        `item ${this.id} has no field "${field}" (it has: ${known.length > 0 ? known.join(', ') : 'none'})`,
      );
    }
    const slotKind = slot.state === 'ref' ? slot.kind : slot.state;
    if (slotKind !== kind) {
      throw new GridlineError('INVALID_ITEM', `field "${field}" of item ${this.id} holds ${slotKind}, not ${kind}`);
    }
    if (slot.state !== 'ref') return slot.value;
    if (this.loader === null) throw new GridlineError('INTERNAL', `field "${field}" is a reference but the item has no loader`);
    const value = await this.loader.load(slot.ref, kind);
    // Loaded but unchanged: keep the reference so it is forwarded without a new copy.
    this.slots.set(field, slot.kind === 'tensor'
      ? { state: 'tensor', value: value as Tensor, dirty: false }
      : { state: 'bytes', value: value as Buffer, dirty: false });
    this.refs.set(field, slot.ref);
    return value;
  }

  /** References of fields loaded but not modified, so the encoder can reuse them. */
  readonly refs = new Map<string, Ref>();
}

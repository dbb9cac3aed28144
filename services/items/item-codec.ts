import type { BlobStore } from '../store/blob-store.js';
import type { FieldRef, ItemEnvelope } from '../../common/job-payload.js';
import { INLINE_LIMIT } from '../../common/job-payload.js';
import { tensorBytes, tensorFromBytes, type Tensor } from '../../common/tensor.js';
import { WorkItem, type FieldLoader } from './work-item.js';

/**
 * Turns queue envelopes into WorkItems and back. Reading a field fetches its claim check on
 * demand; writing stores only fields a stage changed, under a key naming that stage, so a retry
 * overwrites its own blobs rather than leaking new ones.
 */
export class ItemCodec {
  private readonly loader: FieldLoader<FieldRef>;

  constructor(
    private readonly blobs: BlobStore,
    private readonly blobKey: (itemId: string, field: string, version: string) => string,
  ) {
    this.loader = {
      load: async (ref) => {
        const raw = ref.inline !== undefined ? Buffer.from(ref.inline, 'base64') : await this.blobs.get(ref.blob ?? '');
        return ref.kind === 'tensor' ? tensorFromBytes(ref.dtype, ref.shape, raw) : raw;
      },
    };
  }

  decode(envelope: ItemEnvelope): WorkItem<FieldRef> {
    const item = new WorkItem<FieldRef>({ id: envelope.id, key: envelope.key, meta: structuredClone(envelope.meta), loader: this.loader });
    for (const [name, ref] of Object.entries(envelope.fields)) item.attachRef(name, ref.kind, ref);
    return item;
  }

  /** Encodes items for the next queue, storing changed large fields as blobs (one round trip). */
  async encode(items: readonly WorkItem<FieldRef>[], version: string): Promise<ItemEnvelope[]> {
    const puts: [string, Uint8Array][] = [];
    const envelopes = items.map((item) => {
      const fields: Record<string, FieldRef> = {};
      for (const [name, slot] of item.entries()) {
        if (slot.state === 'ref') {
          fields[name] = slot.ref;
          continue;
        }
        const kept = slot.dirty ? undefined : item.refs.get(name);
        if (kept !== undefined) {
          fields[name] = kept;
          continue;
        }
        const bytes = slot.state === 'tensor' ? tensorBytes(slot.value) : slot.value;
        const placement: { inline?: string; blob?: string } = {};
        if (bytes.byteLength <= INLINE_LIMIT) {
          placement.inline = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
        } else {
          const key = this.blobKey(item.id, name, version);
          puts.push([key, bytes]);
          placement.blob = key;
        }
        fields[name] = slot.state === 'tensor'
          ? { kind: 'tensor', dtype: (slot.value as Tensor).dtype, shape: [...(slot.value as Tensor).shape], ...placement }
          : { kind: 'bytes', size: bytes.byteLength, ...placement };
      }
      return { id: item.id, key: item.key, meta: item.meta, fields };
    });
    await this.blobs.putMany(puts);
    return envelopes;
  }
}

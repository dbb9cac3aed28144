import type { Logger } from '../../common/logger.js';
import type { ModelRuntime } from './model-runtime.js';

export interface RuntimeLease {
  readonly runtime: ModelRuntime;
  /** Hands the runtime back; the last holder's release starts the keep-alive timer. */
  release(): void;
}

type Factory = (path: string, options: { useGpu: boolean; logger: Logger }) => Promise<ModelRuntime>;

interface Entry {
  readonly loading: Promise<ModelRuntime>;
  holders: number;
  idleTimer: NodeJS.Timeout | null;
}

/**
 * One loaded session per model file and device on a node, shared by every replica that runs it
 * (two replicas of a stage on one node no longer load the model twice), and kept warm for a while
 * after its last replica stops, so the next run does not pay the load again.
 */
export class RuntimeCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly factory: Factory, private readonly keepAliveMs: number) {}

  async acquire(path: string, useGpu: boolean, logger: Logger): Promise<RuntimeLease> {
    const key = `${useGpu ? 'gpu' : 'cpu'}:${path}`;
    let entry = this.entries.get(key);
    if (entry && (await entry.loading.then((r) => r.healthy?.() === false, () => false))) {
      // Its thread died: never hand out a dead session; load a fresh one.
      this.entries.delete(key);
      entry = undefined;
    }
    if (!entry) {
      const created: Entry = { loading: this.factory(path, { useGpu, logger }), holders: 0, idleTimer: null };
      entry = created;
      this.entries.set(key, created);
      created.loading.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    entry.holders += 1;
    let runtime: ModelRuntime;
    try {
      runtime = await entry.loading;
    } catch (err) {
      entry.holders -= 1;
      throw err;
    }
    const held = entry;
    let released = false;
    return {
      runtime,
      release: () => {
        if (released) return;
        released = true;
        held.holders -= 1;
        if (held.holders > 0) return;
        held.idleTimer = setTimeout(() => {
          if (held.holders > 0 || this.entries.get(key) !== held) return;
          this.entries.delete(key);
          void runtime.close();
        }, this.keepAliveMs);
        held.idleTimer.unref();
      },
    };
  }

  /** Closes every session now (node shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map(async (e) => {
      if (e.idleTimer) clearTimeout(e.idleTimer);
      await (await e.loading.catch(() => null))?.close();
    }));
  }
}

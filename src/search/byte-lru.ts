// A per-process cache bounded by bytes, for index rows that never change once a search can see
// them (filters, a generation's files): each entry is checked against its row's creation time, so
// two databases' rows under one id are told apart.

/** A value in the cache. `value` is emptied when the cache drops it, so an entry a row still holds keeps nothing alive. */
export interface Kept<V> {
  readonly stamp: string;
  /** What it counts against the cache's bound. */
  readonly bytes: number;
  value: V | null;
  used: boolean;
}

/**
 * Entries by key, least recently used first out, approximately (CLOCK): a hit only marks its
 * entry, and eviction moves a marked one to the back once instead of dropping it — a search
 * looks up a thousand entries, and moving each on every hit cost more than using them.
 */
export class ByteLru<E extends Kept<unknown>> {
  private readonly entries = new Map<string, E>();
  private bytes = 0;
  constructor(private readonly max: number) {}

  get(key: string, stamp: string): E | undefined {
    const e = this.entries.get(key);
    if (!e?.value || e.stamp !== stamp) return undefined;
    e.used = true;
    return e;
  }

  /** Adds `entry` (marked used), dropping older ones past the bound; undefined when it alone is larger than the bound. */
  set(key: string, entry: E): E | undefined {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.drop(old);
    }
    if (entry.bytes > this.max) return undefined;
    entry.used = true; // marked: the walk below drops older unmarked ones first
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    // Oldest first; a marked one goes to the back unmarked (the walk reaches it again only after the rest).
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.max) break;
      this.entries.delete(k);
      if (e.used) {
        e.used = false;
        this.entries.set(k, e);
      } else {
        this.drop(e);
      }
    }
    return entry;
  }

  private drop(e: E): void {
    if (e.value) this.bytes -= e.bytes;
    e.value = null;
  }

  clear(): void {
    for (const e of this.entries.values()) e.value = null;
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

// A small TTL cache for the receiver's lookups (an account's secret, a pushed repo), so a burst of
// deliveries costs no SQL beyond its INSERT.

export interface FoundCache<A extends Array<string | null>, T> {
  /** What was found for these arguments, if it is still kept (no promise: the common case costs nothing). */
  peek(...args: A): T | undefined;
  /** Looks it up (and keeps it if found). */
  load(...args: A): Promise<T | null>;
}

/**
 * `load` with what it found kept for `ttlMs` per argument list; a miss (null) is never kept, so
 * something created a moment ago is found at once. At most 10,000 entries: a cache, not a registry.
 */
export function cacheFound<A extends Array<string | null>, T>(ttlMs: number, load: (...args: A) => Promise<T | null>): FoundCache<A, T> {
  const kept = new Map<string, { value: T; until: number }>();
  return {
    peek: (...args) => {
      const hit = kept.get(args.join('|'));
      return hit && hit.until > Date.now() ? hit.value : undefined;
    },
    load: async (...args) => {
      const value = await load(...args);
      if (value === null) return null;
      if (kept.size >= 10_000) kept.clear();
      kept.set(args.join('|'), { value, until: Date.now() + ttlMs });
      return value;
    },
  };
}

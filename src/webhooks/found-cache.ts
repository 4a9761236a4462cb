// A small TTL cache for the receiver's lookups (an account's secret, a pushed repo), so a burst of
// deliveries costs no SQL beyond its INSERT.

/**
 * `load` with what it found kept for `ttlMs` per argument list; a miss (null) is never kept, so
 * something created a moment ago is found at once. At most 10,000 entries: a cache, not a registry.
 */
export function cacheFound<A extends Array<string | null>, T>(ttlMs: number, load: (...args: A) => Promise<T | null>): (...args: A) => Promise<T | null> {
  const kept = new Map<string, { value: T; until: number }>();
  return async (...args) => {
    const key = args.join('|');
    const hit = kept.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const value = await load(...args);
    if (value === null) return null;
    if (kept.size >= 10_000) kept.clear();
    kept.set(key, { value, until: Date.now() + ttlMs });
    return value;
  };
}

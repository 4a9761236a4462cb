// The filter cache keeps at most its bytes and drops the filters least recently used first (CLOCK:
// a hit marks a filter, and the eviction walk spares a marked one once); a filter of another row
// under the same id (another creation time) is not returned; an entry a row still holds after the
// cache dropped it keeps no bits.
import { ByteLru } from '../../src/search/filter-cache';
import type { TrigramBloom } from '../../src/indexer/trigram-bloom';

const filter = (bytes: number): TrigramBloom => ({ k: 7, m: bytes * 8, load: 1, bits: new Uint8Array(bytes) });
const ENTRY = 1000 + 96; // a 1,000-byte filter and the cache's overhead per entry

it('keeps at most its bytes, dropping the filters not used since they were last spared', () => {
  const lru = new ByteLru(3 * ENTRY);
  for (const id of ['a', 'b', 'c']) lru.set(id, 'segment', 't', filter(1000));
  expect(lru.stats()).toEqual({ entries: 3, bytes: 3 * ENTRY });
  // Every filter is marked when added: the walk spares each once, then the oldest goes.
  lru.set('d', 'segment', 't', filter(1000));
  expect(lru.stats()).toEqual({ entries: 3, bytes: 3 * ENTRY });
  expect(lru.get('a', 't')).toBeUndefined();
  // b is used; e comes: b, older than c, is spared, and c (not used since it was spared) goes.
  expect(lru.get('b', 't')).toBeDefined();
  lru.set('e', 'segment', 't', filter(1000));
  expect(['b', 'c', 'd', 'e'].map((id) => lru.get(id, 't')?.f != null)).toEqual([true, false, true, true]);
  expect(lru.stats()).toEqual({ entries: 3, bytes: 3 * ENTRY });
});

it('returns a filter only for the row it was read from (same id, same creation time)', () => {
  const lru = new ByteLru(10 * ENTRY);
  const f = filter(1000);
  lru.set('segment:1', 'segment', '100', f);
  expect(lru.get('segment:1', '100')?.f).toBe(f);
  expect(lru.get('segment:1', '200')).toBeUndefined();
  lru.set('segment:1', 'segment', '200', filter(10));
  expect(lru.get('segment:1', '100')).toBeUndefined();
  expect(lru.stats().entries).toBe(1);
});

it('never keeps a filter larger than the whole cache', () => {
  const lru = new ByteLru(ENTRY);
  lru.set('big', 'segment', 't', filter(5000));
  expect(lru.get('big', 't')).toBeUndefined();
  expect(lru.stats()).toEqual({ entries: 0, bytes: 0 });
});

it('empties the entries it drops: a row holding one keeps no filter alive', () => {
  const lru = new ByteLru(2 * ENTRY);
  const held = lru.set('a', 'segment', 't', filter(1000))!;
  expect(held.f).not.toBeNull();
  lru.set('b', 'segment', 't', filter(1000));
  lru.set('c', 'segment', 't', filter(1000));
  expect(held.f).toBeNull(); // a was the oldest: dropped, its bits released
  expect(lru.stats()).toEqual({ entries: 2, bytes: 2 * ENTRY });
  const replaced = lru.get('b', 't')!;
  lru.set('b', 'segment', 'u', filter(10)); // the same id, another row: the old entry is emptied too
  expect(replaced.f).toBeNull();
});

// The search's caches (filters, a generation's files) keep at most their bytes and drop the entries
// least recently used first (CLOCK: a hit marks an entry, and the eviction walk spares a marked one
// once); an entry of another row under the same id (another creation time) is not returned; an
// entry a row still holds after the cache dropped it keeps nothing alive.
import { ByteLru, type Kept } from '../../src/search/byte-lru';

const ENTRY = 1000;
/** A value counted as `bytes`. */
const kept = (stamp: string, bytes = ENTRY): Kept<Uint8Array> => ({ stamp, bytes, value: new Uint8Array(bytes), used: false });

it('keeps at most its bytes, dropping the entries not used since they were last spared', () => {
  const lru = new ByteLru<Kept<Uint8Array>>(3 * ENTRY);
  for (const id of ['a', 'b', 'c']) lru.set(id, kept('t'));
  expect(lru.stats()).toEqual({ entries: 3, bytes: 3 * ENTRY });
  // Every entry is marked when added: the walk spares each once, then the oldest goes.
  lru.set('d', kept('t'));
  expect(lru.stats()).toEqual({ entries: 3, bytes: 3 * ENTRY });
  expect(lru.get('a', 't')).toBeUndefined();
  // b is used; e comes: b, older than c, is spared, and c (not used since it was spared) goes.
  expect(lru.get('b', 't')).toBeDefined();
  lru.set('e', kept('t'));
  expect(['b', 'c', 'd', 'e'].map((id) => lru.get(id, 't')?.value != null)).toEqual([true, false, true, true]);
  expect(lru.stats()).toEqual({ entries: 3, bytes: 3 * ENTRY });
});

it('returns an entry only for the row it was read from (same id, same creation time)', () => {
  const lru = new ByteLru<Kept<Uint8Array>>(10 * ENTRY);
  const first = kept('100');
  lru.set('segment:1', first);
  expect(lru.get('segment:1', '100')).toBe(first);
  expect(lru.get('segment:1', '200')).toBeUndefined();
  lru.set('segment:1', kept('200', 10));
  expect(lru.get('segment:1', '100')).toBeUndefined();
  expect(lru.stats().entries).toBe(1);
});

it('never keeps an entry larger than the whole cache', () => {
  const lru = new ByteLru<Kept<Uint8Array>>(ENTRY);
  lru.set('big', kept('t', 5000));
  expect(lru.get('big', 't')).toBeUndefined();
  expect(lru.stats()).toEqual({ entries: 0, bytes: 0 });
});

it('empties the entries it drops: a row holding one keeps nothing alive', () => {
  const lru = new ByteLru<Kept<Uint8Array>>(2 * ENTRY);
  const held = lru.set('a', kept('t'))!;
  expect(held.value).not.toBeNull();
  lru.set('b', kept('t'));
  lru.set('c', kept('t'));
  expect(held.value).toBeNull(); // a was the oldest: dropped, its value released
  expect(lru.stats()).toEqual({ entries: 2, bytes: 2 * ENTRY });
  const replaced = lru.get('b', 't')!;
  lru.set('b', kept('u', 10)); // the same id, another row: the old entry is emptied too
  expect(replaced.value).toBeNull();
});

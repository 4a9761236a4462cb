// The Bloom filters of the index's segments (their trigram keys, and their text's 4-grams) and
// generations (their file paths' trigram keys) that a search tests its trigram plan against, so it
// reads posting lists and file names only where the plan may match (src/indexer/trigram-bloom.ts). Segments and active
// generations never change once written (a merge or a build writes new rows with new ids), so a
// filter read once is kept in a per-process cache, keyed by table and id and checked against the
// row's creation time (ids are not reused in a database; the time tells two databases' rows with
// one id apart), and a repeated search over the same repos reads none again.
import type { EntityManager } from 'typeorm';
import { parseBloom, type TrigramBloom } from '../indexer/trigram-bloom';
import { ByteLru, type Kept } from './byte-lru';

/**
 * Bytes of filters the cache keeps, at most (each counted as its bits plus 96 bytes): 96 MiB per
 * process. For scale: node_modules' sources hold ~23,000 distinct trigrams and ~60,000 4-grams a
 * MB, so a GB of indexed text has ~29 MB of trigram filters (10 bits a key) and ~30 MB of 4-gram
 * filters (4 bits). Beyond the bound the least recently used go, and a search over more than fits
 * reads the rest again.
 */
export const FILTER_CACHE_BYTES = 96 * 1024 * 1024;
const ENTRY_OVERHEAD = 96;

export interface FilterRef {
  id: string;
  /** created_at in microseconds since the epoch (as text). */
  stamp: string;
  /** Whether the row has a filter (false: written before there were filters, may hold anything). */
  filtered: boolean;
  /** The cache's entry of this row's filter, once looked up: a row the scope cache keeps finds it without a lookup. */
  held?: CachedFilter;
}

/** A filter in the cache (emptied when the cache drops it, so an entry held by a row never keeps its bits). */
export interface CachedFilter extends Kept<TrigramBloom> {
  /** Which of a row's filters it is (the row's id and stamp are in its cache key). */
  readonly kind: FilterKind;
}

/** How a statement lists rows with these columns: `id`, `stamp`, `filtered`. */
export const STAMP_SQL = `(extract(epoch FROM created_at) * 1000000)::bigint::text`;

const cache = new ByteLru<CachedFilter>(FILTER_CACHE_BYTES);

/** Empties the cache (tests). */
export function clearFilterCache(): void {
  cache.clear();
}

export function filterCacheStats(): { entries: number; bytes: number } {
  return cache.stats();
}

const FETCH = {
  segment: `SELECT id, trigram_bloom AS filter FROM index_segments WHERE repo_id = ANY($1::uuid[]) AND id = ANY($2::bigint[])`,
  'segment 4-grams': `SELECT id, quad_bloom AS filter FROM index_segments WHERE repo_id = ANY($1::uuid[]) AND id = ANY($2::bigint[])`,
  generation: `SELECT id, path_bloom AS filter FROM index_generations WHERE repo_id = ANY($1::uuid[]) AND id = ANY($2::bigint[])`,
} as const;

export type FilterKind = keyof typeof FETCH;

/**
 * The filter of each row, in the rows' order (null: none, may hold anything), from the entries the
 * row holds, the cache, or, for those it lacks, read in one statement bounded by the scope's repos
 * like every statement of a search.
 */
export async function filtersOf(m: EntityManager, kind: FilterKind, repoIds: string[], refs: FilterRef[]): Promise<Array<TrigramBloom | null>> {
  const out = new Array<TrigramBloom | null>(refs.length).fill(null);
  const missing: number[] = [];
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i];
    if (!r.filtered) continue;
    // The entry the row holds when it is still cached: no key to build, no lookup.
    let e = r.held;
    if (e?.value && e.kind === kind) e.used = true;
    else if ((e = cache.get(`${kind}:${r.id}`, r.stamp))) r.held = e;
    if (e?.value) out[i] = e.value;
    else missing.push(i);
  }
  if (missing.length === 0) return out;
  const rows = (await m.query(FETCH[kind], [repoIds, missing.map((i) => refs[i].id)])) as Array<{ id: string; filter: Buffer | null }>;
  const at = new Map(missing.map((i) => [refs[i].id, i]));
  for (const row of rows) {
    const i = at.get(String(row.id));
    const parsed = i === undefined ? null : parseBloom(row.filter);
    if (i === undefined || !parsed) continue;
    // A copy: the driver's buffer may be a slice of a larger one the cache should not hold on to.
    const f = { ...parsed, bits: new Uint8Array(parsed.bits) };
    out[i] = f;
    const e = cache.set(`${kind}:${row.id}`, { kind, stamp: refs[i].stamp, bytes: f.bits.byteLength + ENTRY_OVERHEAD, value: f, used: true });
    if (e) refs[i].held = e;
  }
  // A row gone since it was listed has nothing to read; one the statement did not see stays unfiltered (null).
  return out;
}

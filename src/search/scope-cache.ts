// What a search reads before anything else about the repos it searches — each one's active index
// generation and its index's segments (with their filters' references) — kept per process for the
// sets of repos searched last, and used again while one statement says both are unchanged: a
// fingerprint of their ids, read in the search's own snapshot. Over 1,000 repos that statement
// costs ~3 ms where reading the rows again costs ~10 ms and their parsing more. The rows never
// change once a search can see them (a generation is activated with its filter in one UPDATE; a
// segment is written whole; a new index writes new rows with new ids), so the same ids mean the
// same rows, and a push that activates a generation or writes a segment changes the fingerprint.
import type { EntityManager } from 'typeorm';
import { STAMP_SQL, type FilterRef } from './filter-cache';

export interface ScopeGeneration extends FilterRef {
  repo_id: string;
  commit: string;
  /** Its files (file_count). */
  files: number;
}

export interface ScopeSegment extends FilterRef {
  repo_id: string;
  /** Its 4-gram filter's reference (`filtered`: whether it has one). */
  quads: FilterRef;
}

export interface IndexScope {
  /** The active generation of each repo that has one (its `filtered`: whether its file paths have a filter). */
  generations: ScopeGeneration[];
  /** Their segments, in id order. */
  segments: ScopeSegment[];
}

/** Sets of repos whose scope is kept (each ~100 bytes a segment: ~0.3 MB for 1,000 repos). */
const KEPT_SCOPES = 16;
const kept = new Map<string, { fingerprint: string; scope: IndexScope }>();

/** Forgets every kept scope (tests). */
export function clearScopeCache(): void {
  kept.clear();
}

/** A set of repos' key among the kept scopes: their ids, in the caller's order. */
function keyOf(repoIds: string[]): string {
  return repoIds.join(',');
}

/** The kept scope of these repos, if any, as it was last read (the bench's counts: no statement). */
export function keptScope(repoIds: string[]): IndexScope | undefined {
  return kept.get(keyOf(repoIds))?.scope;
}

// The ids of the repos' active generations and of their segments, hashed in order (the same set, the same hash).
const FINGERPRINT_SQL = `SELECT
  (SELECT md5(coalesce(string_agg(g.id::text, ',' ORDER BY g.id), '')) FROM unnest($1::uuid[]) AS r(id) JOIN index_generations g ON g.repo_id = r.id AND g.state = 'active')
  || (SELECT md5(coalesce(string_agg(s.id::text, ',' ORDER BY s.id), '')) FROM unnest($1::uuid[]) AS r(id) JOIN index_segments s ON s.repo_id = r.id) AS fingerprint`;

/** The repos' active generations and segments, from the kept copy while the fingerprint says it is current. */
export async function indexScope(m: EntityManager, repoIds: string[]): Promise<IndexScope> {
  const key = keyOf(repoIds);
  const [{ fingerprint }] = (await m.query(FINGERPRINT_SQL, [repoIds])) as Array<{ fingerprint: string }>;
  const hit = kept.get(key);
  if (hit?.fingerprint === fingerprint) {
    kept.delete(key);
    kept.set(key, hit);
    return hit.scope;
  }
  const generations = (await m.query(
    `SELECT repo_id, id, commit, coalesce(file_count, 0) AS files, ${STAMP_SQL} AS stamp, path_bloom IS NOT NULL AS filtered
       FROM index_generations WHERE repo_id = ANY($1::uuid[]) AND state = 'active'`,
    [repoIds],
  )) as ScopeGeneration[];
  const rows = (await m.query(
    `SELECT id, repo_id, ${STAMP_SQL} AS stamp, trigram_bloom IS NOT NULL AS filtered, quad_bloom IS NOT NULL AS quads FROM index_segments WHERE repo_id = ANY($1::uuid[]) ORDER BY id`,
    [repoIds],
  )) as Array<FilterRef & { repo_id: string; quads: boolean }>;
  const segments = rows.map((r) => ({ ...r, quads: { id: r.id, stamp: r.stamp, filtered: r.quads } }));
  const scope = { generations, segments };
  // Read in this snapshot, the rows are what the fingerprint describes.
  kept.delete(key);
  kept.set(key, { fingerprint, scope });
  if (kept.size > KEPT_SCOPES) kept.delete(kept.keys().next().value!);
  return scope;
}

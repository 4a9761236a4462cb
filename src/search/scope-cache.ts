// What a search reads before anything else about the repos it searches — each one's active index
// generation and its index's segments (with their filters' references) — kept per process for the
// sets of repos searched last, and used again while no change to them has committed since: the
// index_changes rows (written by triggers, migration 1764300000770) of the transactions the kept
// copy's snapshot had not seen, read in the search's own snapshot by one small statement whatever
// the number of repos (a fingerprint of their ids cost ~4 ms over 1,000 repos, most of it sending
// them). The rows never change once a search can see them (a generation is activated with its
// filter in one UPDATE; a segment is written whole; a new index writes new rows with new ids), and
// every write that changes which ones a scope holds writes an index_changes row in its transaction.
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
/**
 * How long a kept scope is trusted after its last check: index_changes rows are pruned after a day
 * (src/indexer/generation-store.ts), so a snapshot much older could miss a change.
 */
const KEPT_FOR_MS = 10 * 60_000;

interface KeptScope {
  scope: IndexScope;
  repoIds: Set<string>;
  /** The snapshot (pg_snapshot as text) in which the scope is known to be what it holds. */
  snapshot: string;
  checkedAt: number;
}
const kept = new Map<string, KeptScope>();

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

/**
 * In the search's snapshot: the snapshot itself; whether the kept copy may be kept or used
 * (`keeps`: not in a transaction that wrote — its own uncommitted rows may roll back — and one
 * snapshot for the whole transaction, as REPEATABLE READ has); whether this snapshot sees all the
 * kept one saw (`later`: a search that began before the kept copy was read may not use it); and the
 * repos changed by the transactions this snapshot sees and the kept one did not ('*': all).
 */
const CHECK_SQL = `SELECT pg_current_snapshot()::text AS snapshot,
  current_setting('transaction_isolation') <> 'read committed' AND pg_current_xact_id_if_assigned() IS NULL AS keeps,
  $1::pg_snapshot IS NOT NULL
    AND pg_snapshot_xmax($1::pg_snapshot) <= pg_snapshot_xmax(pg_current_snapshot())
    AND NOT EXISTS (SELECT 1 FROM pg_snapshot_xip(pg_current_snapshot()) AS x(id)
                     WHERE x.id < pg_snapshot_xmax($1::pg_snapshot) AND pg_visible_in_snapshot(x.id, $1::pg_snapshot)) AS later,
  ARRAY(SELECT DISTINCT coalesce(repo_id::text, '*') FROM index_changes
         WHERE $1::pg_snapshot IS NOT NULL AND xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)) AS changed`;

/** The repos' active generations and segments, from the kept copy while no change to them committed since it was read. */
export async function indexScope(m: EntityManager, repoIds: string[]): Promise<IndexScope> {
  const key = keyOf(repoIds);
  const hit = kept.get(key);
  const trusted = hit && Date.now() - hit.checkedAt < KEPT_FOR_MS ? hit : undefined;
  const [check] = (await m.query(CHECK_SQL, [trusted?.snapshot ?? null])) as Array<{ snapshot: string; keeps: boolean; later: boolean; changed: string[] }>;
  if (trusted && check.keeps && check.later && !check.changed.some((id) => id === '*' || trusted.repoIds.has(id))) {
    // The same scope in this later snapshot: the next check reads only what committed after it.
    trusted.snapshot = check.snapshot;
    trusted.checkedAt = Date.now();
    kept.delete(key);
    kept.set(key, trusted);
    return trusted.scope;
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
  // Read in this snapshot, the rows are what it holds: kept, unless the kept copy is of a later snapshot
  // (this search began before it was read) or this transaction wrote or reads in more than one snapshot.
  if (check.keeps && (!trusted || check.later)) {
    kept.delete(key);
    kept.set(key, { scope, repoIds: new Set(repoIds.map((id) => id.toLowerCase())), snapshot: check.snapshot, checkedAt: Date.now() });
    if (kept.size > KEPT_SCOPES) kept.delete(kept.keys().next().value!);
  }
  return scope;
}

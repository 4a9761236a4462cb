// The index's rows for one build, on one connection held for the build: the repo's advisory
// lock, its generations (find, create — an incremental one as a copy of the base's rows — switch
// in, clean up), and one transaction per prepared batch (blobs, search segment, symbols, files,
// directories, progress). Readers only ever see the active generation (queries.ts).
import type { DataSource, QueryRunner } from 'typeorm';
import { copyRows, uuidBytes } from './copy-binary';
import type { IndexLimits } from './limits';
import { tooManyBytes, tooManyFiles } from './limits';
import { ancestorsOf, baseName, parentOf } from './paths';
import type { Plan } from './plan';
import type { KnownBlobs, PreparedBatch } from './prepare';
import { dropEmptySegments, mergeSmallSegments, writeSegment } from './segments';
import { distinctKeys } from './blocks';
import { buildBloom, extendBloom } from './trigram-bloom';

/** Namespace of the per-repo advisory lock (the key's second half is hashtext(repoId)). */
const LOCK_NAMESPACE = 0x1e77;

export interface GenerationRow {
  id: string;
  commit: string;
  kind: 'full' | 'incremental';
  base_commit: string | null;
  base_generation_id: string | null;
  file_count: number | null;
  text_bytes: string | null;
}

const COLUMNS = 'id, commit, kind, base_commit, base_generation_id, file_count, text_bytes';

/** What a building generation already holds of a plan's paths (copied rows, or batches of an earlier attempt). */
export interface Existing {
  files: Map<string, string>;
  dirs: Set<string>;
  fileCount: number;
  textBytes: number;
}

export class GenerationStore {
  constructor(
    private readonly ds: DataSource,
    private readonly db: QueryRunner,
    readonly repoId: string,
  ) {}

  /**
   * Runs `fn` holding the repo's advisory lock: one build of a repo at a time. The build's commits
   * do not wait for their WAL flush (synchronous_commit off): a crash of PostgreSQL can lose at
   * most its last ones, which the activity's retry redoes — the activity records the new head with
   * a synchronous commit after them, which flushes them too.
   */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    await this.db.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_NAMESPACE, this.repoId]);
    await this.db.query('SET synchronous_commit = off');
    try {
      return await fn();
    } finally {
      await this.db.query('RESET synchronous_commit').catch(() => undefined);
      await this.db.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, this.repoId]).catch(() => undefined);
    }
  }

  async active(): Promise<GenerationRow | null> {
    const [row] = (await this.db.query(`SELECT ${COLUMNS} FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [this.repoId])) as GenerationRow[];
    return row ?? null;
  }

  /** A building generation of `commit` to continue: the one `wantedId` names, else the latest. */
  async building(commit: string, wantedId: string | undefined): Promise<GenerationRow | null> {
    if (wantedId && /^\d+$/.test(wantedId)) {
      const [row] = (await this.db.query(
        `SELECT ${COLUMNS} FROM index_generations WHERE id = $1 AND repo_id = $2 AND state = 'building' AND commit = $3`,
        [wantedId, this.repoId, commit],
      )) as GenerationRow[];
      if (row) return row;
    }
    const [row] = (await this.db.query(
      `SELECT ${COLUMNS} FROM index_generations WHERE repo_id = $1 AND state = 'building' AND commit = $2 ORDER BY id DESC LIMIT 1`,
      [this.repoId, commit],
    )) as GenerationRow[];
    return row ?? null;
  }

  async deleteGeneration(id: string): Promise<void> {
    await this.db.query('DELETE FROM index_generations WHERE id = $1', [id]);
  }

  /** A building incremental generation holding the base's rows except the plan's removed paths. */
  async createIncremental(commit: string, base: GenerationRow, plan: Plan): Promise<GenerationRow> {
    return this.transaction(async () => {
      const [row] = (await this.db.query(
        `INSERT INTO index_generations (repo_id, commit, state, kind, base_commit, base_generation_id, files_total)
         VALUES ($1, $2, 'building', 'incremental', $3, $4, $5) RETURNING ${COLUMNS}`,
        [this.repoId, commit, base.commit, base.id, plan.items.length],
      )) as GenerationRow[];
      await this.db.query(
        `INSERT INTO index_entries (generation_id, path, parent, name, type, size, language, sha, is_text)
         SELECT $1, path, parent, name, type, size, language, sha, is_text FROM index_entries
          WHERE generation_id = $2 AND NOT (path = ANY($3::text[]))`,
        [row.id, base.id, plan.removed],
      );
      return row;
    });
  }

  async createFull(commit: string, filesTotal: number): Promise<GenerationRow> {
    const [row] = (await this.db.query(
      `INSERT INTO index_generations (repo_id, commit, state, kind, files_total) VALUES ($1, $2, 'building', 'full', $3) RETURNING ${COLUMNS}`,
      [this.repoId, commit, filesTotal],
    )) as GenerationRow[];
    return row;
  }

  /**
   * What the generation holds of `paths` (and of their ancestor directories), with its file count
   * and text bytes: an incremental build reads only the rows it can touch, not a big repo's every
   * row copied from the base.
   */
  async existing(gen: GenerationRow, paths: string[]): Promise<Existing> {
    const out: Existing = { files: new Map(), dirs: new Set(), fileCount: 0, textBytes: 0 };
    // A full generation holds only what its build wrote (nothing yet when it is new): all of it.
    let rows: Array<{ path: string; type: string; sha: string | null }>;
    if (gen.kind === 'full') rows = (await this.db.query(`SELECT path, type, sha FROM index_entries WHERE generation_id = $1`, [gen.id])) as typeof rows;
    else {
      const dirs = new Set<string>();
      for (const p of paths) for (const d of ancestorsOf(p)) dirs.add(d);
      rows = (await this.db.query(`SELECT path, type, sha FROM index_entries WHERE generation_id = $1 AND path = ANY($2::text[])`, [gen.id, [...paths, ...dirs]])) as typeof rows;
    }
    for (const r of rows) {
      if (r.type === 'dir') out.dirs.add(r.path);
      else out.files.set(r.path, r.sha ?? '');
    }
    const [totals] = (await this.db.query(
      `SELECT count(*) FILTER (WHERE type = 'file')::int AS files, coalesce(sum(size) FILTER (WHERE is_text), 0)::bigint AS bytes FROM index_entries WHERE generation_id = $1`,
      [gen.id],
    )) as Array<{ files: number; bytes: string }>;
    out.fileCount = totals.files;
    out.textBytes = Number(totals.bytes);
    return out;
  }

  /** On another connection of the pool, so a batch is prepared while the previous one is written. */
  readonly knownBlobs: KnownBlobs = async (shas) => {
    const known = new Map<string, string | null>();
    if (shas.length === 0) return known;
    const rows = (await this.ds.query(`SELECT sha, symbols_grammar FROM index_blobs WHERE repo_id = $1 AND sha = ANY($2::text[])`, [this.repoId, shas])) as Array<{
      sha: string;
      symbols_grammar: string | null;
    }>;
    for (const r of rows) known.set(r.sha, r.symbols_grammar);
    return known;
  };

  /** One transaction: new blobs and their segment, symbols, file rows, new directories (`dirs`), progress. */
  async writeBatch(gen: GenerationRow, p: PreparedBatch, dirs: string[], progress: { filesDone: number; filesTotal: number }): Promise<void> {
    await this.transaction(async () => {
      const db = this.db;
      const repo = uuidBytes(this.repoId);
      const fresh = p.blobs.filter((b) => b.isNew);
      await copyRows(
        db,
        'index_blobs',
        ['repo_id', 'sha', 'content', 'symbols_grammar'],
        fresh.map((b) => [repo, b.sha, b.bytes, b.grammar]),
      );
      const reparsed = p.blobs.filter((b) => !b.isNew && b.grammar);
      if (reparsed.length) {
        await db.query(`UPDATE index_blobs b SET symbols_grammar = u.grammar FROM unnest($2::text[], $3::text[]) AS u(sha, grammar) WHERE b.repo_id = $1 AND b.sha = u.sha`, [
          this.repoId,
          reparsed.map((b) => b.sha),
          reparsed.map((b) => b.grammar),
        ]);
      }
      await writeSegment(db, this.repoId, fresh);
      const parsed = p.blobs.filter((b) => b.grammar);
      if (parsed.length) {
        if (reparsed.length) await db.query(`DELETE FROM index_symbols WHERE repo_id = $1 AND sha = ANY($2::text[])`, [this.repoId, reparsed.map((b) => b.sha)]);
        const rows: Array<[Buffer, string, string, string, { int4: number }]> = [];
        for (const b of parsed) for (const s of b.symbols) rows.push([repo, b.sha, s.name, s.kind, { int4: s.line }]);
        await copyRows(db, 'index_symbols', ['repo_id', 'sha', 'name', 'kind', 'line'], rows);
      }
      if (dirs.length) {
        await db.query(
          `INSERT INTO index_entries (generation_id, path, parent, name, type)
           SELECT $1, p, pa, n, 'dir' FROM unnest($2::text[], $3::text[], $4::text[]) AS t(p, pa, n)
           ON CONFLICT (generation_id, path) DO NOTHING`,
          [gen.id, dirs, dirs.map(parentOf), dirs.map(baseName)],
        );
      }
      await db.query(
        `INSERT INTO index_entries (generation_id, path, parent, name, type, size, language, sha, is_text)
         SELECT $1, p, pa, n, 'file', s, l, h, t FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bool[]) AS x(p, pa, n, s, l, h, t)
         ON CONFLICT (generation_id, path) DO UPDATE
           SET parent = EXCLUDED.parent, name = EXCLUDED.name, type = 'file', size = EXCLUDED.size,
               language = EXCLUDED.language, sha = EXCLUDED.sha, is_text = EXCLUDED.is_text`,
        [
          gen.id,
          p.files.map((f) => f.path),
          p.files.map((f) => parentOf(f.path)),
          p.files.map((f) => baseName(f.path)),
          p.files.map((f) => f.size),
          p.files.map((f) => f.language),
          p.files.map((f) => f.sha),
          p.files.map((f) => f.isText),
        ],
      );
      await db.query(`UPDATE index_generations SET files_done = $2, files_total = $3 WHERE id = $1`, [gen.id, progress.filesDone, progress.filesTotal]);
    });
  }

  /**
   * Removes directories the plan left empty, checks the limits on the rows, switches the
   * generation in, deletes the other generations and the blobs no longer used, and keeps the
   * search segments few. Returns the generation's file count and text bytes.
   */
  async finish(gen: GenerationRow, plan: Plan, active: GenerationRow | null, limits: IndexLimits): Promise<{ files: number; bytes: number }> {
    const db = this.db;
    if (plan.kind === 'incremental' && plan.removed.length) {
      const byDepth = new Map<number, Set<string>>();
      for (const p of plan.removed) {
        for (const d of ancestorsOf(p)) {
          const depth = d.split('/').length;
          if (!byDepth.has(depth)) byDepth.set(depth, new Set());
          byDepth.get(depth)!.add(d);
        }
      }
      for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
        await db.query(
          `DELETE FROM index_entries d WHERE d.generation_id = $1 AND d.type = 'dir' AND d.path = ANY($2::text[])
             AND NOT EXISTS (SELECT 1 FROM index_entries c WHERE c.generation_id = $1 AND c.parent = d.path)`,
          [gen.id, [...byDepth.get(depth)!]],
        );
      }
    }
    const [stats] = (await db.query(
      `SELECT count(*) FILTER (WHERE type = 'file')::int AS files, coalesce(sum(size) FILTER (WHERE is_text), 0)::bigint AS bytes
         FROM index_entries WHERE generation_id = $1`,
      [gen.id],
    )) as Array<{ files: number; bytes: string }>;
    const files = stats.files;
    const bytes = Number(stats.bytes);
    if (files > limits.maxFiles) throw tooManyFiles(files, limits);
    if (bytes > limits.maxTotalBytes) throw tooManyBytes(bytes, limits);
    const pathBloom = await this.pathBloom(gen, plan);

    await this.transaction(async () => {
      await db.query(`UPDATE index_generations SET state = 'retired' WHERE repo_id = $1 AND state = 'active'`, [this.repoId]);
      await db.query(
        `UPDATE index_generations SET state = 'active', activated_at = now(), file_count = $2, text_bytes = $3, files_done = files_total, path_bloom = $4 WHERE id = $1`,
        [gen.id, files, bytes, pathBloom],
      );
    });
    const incrementalFromActive = plan.kind === 'incremental' && active !== null && gen.base_generation_id === active.id;
    await this.cleanup(gen.id, incrementalFromActive ? plan.oldShas : null);
    await mergeSmallSegments(db, this.repoId);
    // A full build that changes the tables' make-up a lot (a tenth of their rows or more, or tables
    // never analysed) refreshes the planner's statistics now rather than at autovacuum's next turn
    // (a sample of 30,000 rows each, ~1.2 s of PostgreSQL CPU once the tables are large). One small
    // repo among a thousand does not: analysing after each of them made the 1,000th index 4× slower.
    if (plan.kind === 'full' && (await this.reshapesTables(files))) {
      await db.query('ANALYZE index_blobs (repo_id, sha), index_blocks, index_entries, index_symbols, index_postings');
    }
    return { files, bytes };
  }

  /**
   * The Bloom filter of the trigram keys of the generation's file paths (the search's file-name
   * pass skips a generation it rules out). A full generation's files are the plan's items; an
   * incremental one's are its base's (whose filter it extends: removed paths only leave false
   * positives) and the plan's items. Built from the generation's rows when the base has no filter
   * (written before migration 1764300000750) or extending it would overload it.
   */
  private async pathBloom(gen: GenerationRow, plan: Plan): Promise<Buffer> {
    const planned = distinctKeys(plan.items.map((i) => i.path));
    if (plan.kind === 'full') return buildBloom(planned);
    if (gen.base_generation_id) {
      const [base] = (await this.db.query(`SELECT path_bloom FROM index_generations WHERE id = $1 AND repo_id = $2`, [gen.base_generation_id, this.repoId])) as Array<{
        path_bloom: Buffer | null;
      }>;
      const grown = base?.path_bloom ? extendBloom(base.path_bloom, planned) : null;
      if (grown) return grown;
    }
    const rows = (await this.db.query(`SELECT path FROM index_entries WHERE generation_id = $1 AND type = 'file'`, [gen.id])) as Array<{ path: string }>;
    return buildBloom(distinctKeys(rows.map((r) => r.path)));
  }

  /** Whether `files` new entries are a tenth or more of what the planner believes index_entries holds. */
  private async reshapesTables(files: number): Promise<boolean> {
    const [{ rows }] = (await this.db.query(`SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = 'index_entries'::regclass`)) as Array<{ rows: number }>;
    return rows < 0 || files >= rows / 10;
  }

  /**
   * Deletes every other generation of the repo (retired, and building ones abandoned), then the
   * blobs no generation references: only `candidates` when given (an incremental build with no
   * stale generations), else all of the repo's; then the segments left without blocks.
   */
  // The unreferenced blobs are a set difference computed once (EXCEPT: one pass over each side),
  // then deleted by key. NOT EXISTS let the planner, with statistics from before the build, filter
  // all of the generation's entries for each blob (50,000 files: 4+ minutes of one core).
  async cleanup(keepId: string, candidates: string[] | null): Promise<void> {
    const gone = await this.db.query(`DELETE FROM index_generations WHERE repo_id = $1 AND id <> $2 RETURNING state`, [this.repoId, keepId], true);
    const staleBuilding = (gone.records as Array<{ state: string }>).some((r) => r.state === 'building');
    // The search's record of index changes (src/search/scope-cache.ts) needs only its last minutes: a day is kept.
    // Builds of other repos prune at the same time: each skips the rows another is deleting (no wait, no deadlock).
    await this.db.query(
      `DELETE FROM index_changes WHERE id IN (SELECT id FROM index_changes WHERE created_at < now() - interval '1 day' FOR UPDATE SKIP LOCKED)`,
    );
    if (candidates && !staleBuilding) {
      if (candidates.length === 0) return;
      await this.db.query(
        `DELETE FROM index_blobs WHERE repo_id = $1 AND sha = ANY(ARRAY(
           SELECT unnest($3::text[]) EXCEPT SELECT sha FROM index_entries WHERE generation_id = $2 AND sha = ANY($3::text[]) AND is_text))`,
        [this.repoId, keepId, candidates],
      );
    } else {
      await this.db.query(
        `DELETE FROM index_blobs WHERE repo_id = $1 AND sha = ANY(ARRAY(
           SELECT sha FROM index_blobs WHERE repo_id = $1 EXCEPT SELECT sha FROM index_entries WHERE generation_id = $2 AND is_text))`,
        [this.repoId, keepId],
      );
      await dropEmptySegments(this.db, this.repoId);
    }
  }

  /** A build that cannot succeed (too large): remove its generation and the blobs only it used. */
  async abandon(gen: GenerationRow): Promise<void> {
    await this.deleteGeneration(gen.id);
    const active = await this.active();
    if (active) await this.cleanup(active.id, null);
    else {
      await this.db.query('DELETE FROM index_blobs WHERE repo_id = $1', [this.repoId]);
      await this.db.query('DELETE FROM index_segments WHERE repo_id = $1', [this.repoId]);
    }
  }

  private async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.db.startTransaction();
    try {
      const out = await fn();
      await this.db.commitTransaction();
      return out;
    } catch (err) {
      await this.db.rollbackTransaction().catch(() => undefined);
      throw err;
    }
  }
}

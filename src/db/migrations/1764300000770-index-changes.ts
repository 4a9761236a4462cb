import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * index_changes: a row per repo whose search scope a transaction changed — a segment written or
 * dropped, a generation switched in or out (or an active one changed or deleted) — with that
 * transaction's id, written by triggers so no writer can forget it. A search keeps the scope of the
 * repos it searched (src/search/scope-cache.ts) and, on the next search, reads only the rows whose
 * transaction its kept copy's snapshot had not seen: one small statement however many repos, where
 * hashing the scope's ids cost ~4 ms over 1,000 repos. Insert-only (no row is locked, writers of
 * different repos never wait on each other); rows older than a day are pruned after each build
 * (src/indexer/generation-store.ts). TRUNCATE writes a row without a repo: every scope changed.
 */
export class IndexChanges1764300000770 implements MigrationInterface {
  name = 'IndexChanges1764300000770';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE index_changes (
        id bigserial PRIMARY KEY,
        repo_id uuid,
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX index_changes_xid ON index_changes (xid)`);
    await q.query(`CREATE INDEX index_changes_created ON index_changes (created_at)`);
    // Segments: once per statement, a row per repo it touched.
    await q.query(`
      CREATE FUNCTION index_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO index_changes (repo_id) SELECT DISTINCT repo_id FROM changed;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER index_segments_added AFTER INSERT ON index_segments REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION index_rows_changed()`);
    await q.query(`CREATE TRIGGER index_segments_dropped AFTER DELETE ON index_segments REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION index_rows_changed()`);
    // Generations: only the active one is in a scope (a building generation's progress writes nothing here).
    await q.query(`
      CREATE FUNCTION index_generation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO index_changes (repo_id) VALUES (OLD.repo_id);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER index_generations_switched AFTER UPDATE ON index_generations
        FOR EACH ROW WHEN (OLD.state = 'active' OR NEW.state = 'active') EXECUTE FUNCTION index_generation_changed()`);
    await q.query(`
      CREATE TRIGGER index_generations_dropped AFTER DELETE ON index_generations
        FOR EACH ROW WHEN (OLD.state = 'active') EXECUTE FUNCTION index_generation_changed()`);
    await q.query(`
      CREATE FUNCTION index_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO index_changes (repo_id) VALUES (NULL);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER index_segments_truncated AFTER TRUNCATE ON index_segments FOR EACH STATEMENT EXECUTE FUNCTION index_truncated()`);
    await q.query(`CREATE TRIGGER index_generations_truncated AFTER TRUNCATE ON index_generations FOR EACH STATEMENT EXECUTE FUNCTION index_truncated()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER index_generations_truncated ON index_generations`);
    await q.query(`DROP TRIGGER index_segments_truncated ON index_segments`);
    await q.query(`DROP TRIGGER index_generations_dropped ON index_generations`);
    await q.query(`DROP TRIGGER index_generations_switched ON index_generations`);
    await q.query(`DROP TRIGGER index_segments_dropped ON index_segments`);
    await q.query(`DROP TRIGGER index_segments_added ON index_segments`);
    await q.query(`DROP FUNCTION index_truncated()`);
    await q.query(`DROP FUNCTION index_generation_changed()`);
    await q.query(`DROP FUNCTION index_rows_changed()`);
    await q.query(`DROP TABLE index_changes`);
  }
}

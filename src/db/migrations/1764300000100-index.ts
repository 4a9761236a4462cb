import type { MigrationInterface, QueryRunner } from 'typeorm';

// The code index (src/indexer). A repo's index is a set of generations; readers only see the
// `active` one, a build fills a `building` one and switches it in with one transaction.
// - index_entries: per generation, one row per file or directory (the tree, languages, sizes).
// - index_blobs: per repo, content-addressed text (git blob sha) shared by every generation, with
//   `words` (each distinct word once) under a pg_trgm GIN index; `content` and `words` are stored
//   uncompressed (EXTERNAL) so writes skip pglz and search rechecks read them directly.
// - index_symbols: per repo and blob, the definitions tree-sitter found.
// High-volume tables carry no row-level foreign keys (each check costs ~11 µs a row); statement
// triggers remove their rows with the generation or blob they belong to, and both of those cascade
// from `repos`.
export class Index1764300000100 implements MigrationInterface {
  name = 'Index1764300000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`
      CREATE TABLE index_generations (
        id bigserial PRIMARY KEY,
        repo_id uuid NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        commit text NOT NULL,
        state text NOT NULL CHECK (state IN ('building', 'active', 'retired')),
        kind text NOT NULL CHECK (kind IN ('full', 'incremental')),
        base_commit text,
        base_generation_id bigint,
        files_total integer NOT NULL DEFAULT 0,
        files_done integer NOT NULL DEFAULT 0,
        file_count integer,
        text_bytes bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX index_generations_active ON index_generations (repo_id) WHERE state = 'active'`);
    await q.query(`CREATE INDEX index_generations_repo ON index_generations (repo_id, state)`);

    await q.query(`
      CREATE TABLE index_entries (
        generation_id bigint NOT NULL,
        path text COLLATE "C" NOT NULL,
        parent text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        type text NOT NULL CHECK (type IN ('file', 'dir')),
        size bigint,
        language text,
        sha text,
        is_text boolean NOT NULL DEFAULT false,
        PRIMARY KEY (generation_id, path)
      )`);
    await q.query(`CREATE INDEX index_entries_parent ON index_entries (generation_id, parent)`);
    // Every push copies a generation's rows and deletes the previous ones: vacuum and analyze often.
    await q.query(`ALTER TABLE index_entries SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05)`);
    await q.query(`CREATE INDEX index_entries_sha ON index_entries (generation_id, sha) WHERE is_text`);

    await q.query(`
      CREATE TABLE index_blobs (
        repo_id uuid NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        sha text NOT NULL,
        content text NOT NULL,
        words text NOT NULL,
        symbols_grammar text,
        PRIMARY KEY (repo_id, sha)
      )`);
    await q.query(`ALTER TABLE index_blobs ALTER COLUMN content SET STORAGE EXTERNAL, ALTER COLUMN words SET STORAGE EXTERNAL`);
    await q.query(`CREATE INDEX index_blobs_words ON index_blobs USING gin (words gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE index_symbols (
        repo_id uuid NOT NULL,
        sha text NOT NULL,
        name text COLLATE "C" NOT NULL,
        kind text NOT NULL,
        line integer NOT NULL
      )`);
    await q.query(`CREATE INDEX index_symbols_name ON index_symbols (repo_id, lower(name))`);
    await q.query(`CREATE INDEX index_symbols_blob ON index_symbols (repo_id, sha)`);

    await q.query(`
      CREATE FUNCTION index_generations_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM index_entries e USING gone g WHERE e.generation_id = g.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER index_generations_cleanup AFTER DELETE ON index_generations
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION index_generations_deleted()`);
    await q.query(`
      CREATE FUNCTION index_blobs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM index_symbols s USING gone g WHERE s.repo_id = g.repo_id AND s.sha = g.sha;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER index_blobs_cleanup AFTER DELETE ON index_blobs
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION index_blobs_deleted()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS index_symbols`);
    await q.query(`DROP TABLE IF EXISTS index_blobs`);
    await q.query(`DROP TABLE IF EXISTS index_entries`);
    await q.query(`DROP TABLE IF EXISTS index_generations`);
    await q.query(`DROP FUNCTION IF EXISTS index_generations_deleted()`);
    await q.query(`DROP FUNCTION IF EXISTS index_blobs_deleted()`);
  }
}

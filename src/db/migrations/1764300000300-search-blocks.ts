import type { MigrationInterface, QueryRunner } from 'typeorm';
import { insertBlocks, textBlocks, wordSet } from './support/search-blocks-1764300000300';

// Search by n-gram blocks (src/indexer/blocks.ts), replacing the pg_trgm index over each blob's
// word set, whose candidates were every file holding the query's words anywhere (a phrase of
// common words read most of the repo):
// - index_blocks: per repo and blob, its blocks (byte offset, length and overlap; first line; where
//   that line starts when the block begins inside it) with the trigram keys of each under a GIN
//   index. int4[] containment is exact, so the index needs no recheck; `keys` is stored
//   uncompressed (EXTERNAL): it is only ever read to build the index.
// - Blocks go with their blob (the blob trigger, like symbols); existing blobs are cut here.
// - index_blobs.content becomes bytea (the same UTF-8 bytes, still uncompressed): a search reads a
//   block as a byte range, which PostgreSQL fetches from TOAST alone; a text substring would count
//   characters from the start of the file.
// - index_blobs.words and its pg_trgm index are dropped.
export class SearchBlocks1764300000300 implements MigrationInterface {
  name = 'SearchBlocks1764300000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE index_blocks (
        repo_id uuid NOT NULL,
        sha text NOT NULL,
        start integer NOT NULL,
        length integer NOT NULL,
        tail integer NOT NULL,
        line integer NOT NULL,
        line_start integer,
        keys int4[] NOT NULL,
        PRIMARY KEY (repo_id, sha, start)
      )`);
    await q.query(`ALTER TABLE index_blocks ALTER COLUMN keys SET STORAGE EXTERNAL`);
    // One statement, so that the rewrite already stores the new values uncompressed.
    await q.query(`ALTER TABLE index_blobs ALTER COLUMN content TYPE bytea USING convert_to(content, 'UTF8'), ALTER COLUMN content SET STORAGE EXTERNAL`);
    await eachBlob(q, async (repoId, rows) => {
      await insertBlocks(q, repoId, rows.map((r) => ({ sha: r.sha, blocks: textBlocks(r.content) })));
    });
    await q.query(`CREATE INDEX index_blocks_keys ON index_blocks USING gin (keys)`);
    await q.query(`
      CREATE OR REPLACE FUNCTION index_blobs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM index_symbols s USING gone g WHERE s.repo_id = g.repo_id AND s.sha = g.sha;
        DELETE FROM index_blocks b USING gone g WHERE b.repo_id = g.repo_id AND b.sha = g.sha;
        RETURN NULL;
      END $$`);
    await q.query(`ALTER TABLE index_blobs DROP COLUMN words`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_blobs ADD COLUMN words text`);
    await q.query(`ALTER TABLE index_blobs ALTER COLUMN words SET STORAGE EXTERNAL`);
    await eachBlob(q, async (repoId, rows) => {
      await q.query(`UPDATE index_blobs b SET words = w.words FROM unnest($2::text[], $3::text[]) AS w(sha, words) WHERE b.repo_id = $1 AND b.sha = w.sha`, [
        repoId,
        rows.map((r) => r.sha),
        rows.map((r) => wordSet(r.content)),
      ]);
    });
    await q.query(`ALTER TABLE index_blobs ALTER COLUMN words SET NOT NULL`);
    await q.query(`CREATE INDEX index_blobs_words ON index_blobs USING gin (words gin_trgm_ops)`);
    await q.query(`
      CREATE OR REPLACE FUNCTION index_blobs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM index_symbols s USING gone g WHERE s.repo_id = g.repo_id AND s.sha = g.sha;
        RETURN NULL;
      END $$`);
    await q.query(`DROP TABLE index_blocks`);
    await q.query(`ALTER TABLE index_blobs ALTER COLUMN content TYPE text USING convert_from(content, 'UTF8'), ALTER COLUMN content SET STORAGE EXTERNAL`);
  }
}

/** Every blob, 200 at a time in key order, grouped by repo. */
async function eachBlob(q: QueryRunner, fn: (repoId: string, rows: Array<{ sha: string; content: string }>) => Promise<void>): Promise<void> {
  let after: { repo_id: string; sha: string } | null = null;
  for (;;) {
    const page = (await q.query(
      `SELECT repo_id, sha, convert_from(content, 'UTF8') AS content FROM index_blobs WHERE $1::uuid IS NULL OR (repo_id, sha) > ($1::uuid, $2::text) ORDER BY repo_id, sha LIMIT 200`,
      [after?.repo_id ?? null, after?.sha ?? null],
    )) as Array<{ repo_id: string; sha: string; content: string }>;
    if (page.length === 0) return;
    const byRepo = new Map<string, Array<{ sha: string; content: string }>>();
    for (const r of page) {
      const rows = byRepo.get(r.repo_id) ?? [];
      rows.push(r);
      byRepo.set(r.repo_id, rows);
    }
    for (const [repoId, rows] of byRepo) await fn(repoId, rows);
    after = page[page.length - 1];
  }
}

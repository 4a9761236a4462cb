import type { MigrationInterface, QueryRunner } from 'typeorm';

// The search index as posting lists built by the indexer (src/indexer/postings.ts), replacing the
// GIN index over each block's trigram keys, whose inserts (one entry per key and block: 13 M for
// 62 MB of code) were most of PostgreSQL's work in a build:
// - index_segments: per repo, the blocks one batch of a build added, numbered 0…blocks-1;
//   `bucket_bits` says over how many bucket rows its keys are spread.
// - index_postings: per segment and bucket, the bucket's ascending keys, the end offset of each
//   key's list, and the lists (LEB128 varints of the gaps between ascending block numbers), stored
//   uncompressed and inline up to ~8 KB.
// - index_blocks loses `keys` and its GIN index and gains (segment_id, ordinal), its new primary
//   key; blocks still go with their blob (the blob trigger), and a segment takes its blocks and
//   postings with it (a statement trigger, like the other index tables).
// Existing blocks become one segment per repo, numbered in (sha, start) order, with postings built
// here in SQL from their keys (no migration runs indexer code). `down` rebuilds the keys (with the
// repo key of 1764300000300) and the GIN index.
export class SearchPostings1764300000600 implements MigrationInterface {
  name = 'SearchPostings1764300000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE index_segments (
        id bigserial PRIMARY KEY,
        repo_id uuid NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        bucket_bits smallint NOT NULL CHECK (bucket_bits BETWEEN 0 AND 16),
        blocks integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX index_segments_repo ON index_segments (repo_id)`);
    await q.query(`
      CREATE TABLE index_postings (
        segment_id bigint NOT NULL,
        bucket integer NOT NULL,
        keys int4[] NOT NULL,
        ends int4[] NOT NULL,
        postings bytea NOT NULL,
        PRIMARY KEY (segment_id, bucket)
      )`);
    await q.query(`ALTER TABLE index_postings ALTER COLUMN postings SET STORAGE EXTERNAL, ALTER COLUMN keys SET STORAGE EXTERNAL, ALTER COLUMN ends SET STORAGE EXTERNAL`);
    await q.query(`ALTER TABLE index_postings SET (toast_tuple_target = 8160)`);
    await q.query(`ALTER TABLE index_blocks ADD COLUMN segment_id bigint, ADD COLUMN ordinal integer`);

    // One segment per repo for the blocks there are.
    await q.query(`
      CREATE FUNCTION pg_temp.lettuce_varint(gap bigint) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
      DECLARE out bytea := ''::bytea; g bigint := gap;
      BEGIN
        WHILE g >= 128 LOOP
          out := out || set_byte('\\x00'::bytea, 0, ((g & 127) | 128)::int);
          g := g >> 7;
        END LOOP;
        RETURN out || set_byte('\\x00'::bytea, 0, g::int);
      END $$`);
    await q.query(`
      WITH counts AS (
        SELECT repo_id, count(*)::int AS blocks, sum(cardinality(keys) - 1)::bigint AS postings FROM index_blocks GROUP BY repo_id
      )
      INSERT INTO index_segments (repo_id, bucket_bits, blocks)
      SELECT repo_id, CASE WHEN postings * 1.2 <= 4096 THEN 0 ELSE least(12, ceil(log(2, postings * 1.2 / 4096)))::int END, blocks FROM counts`);
    await q.query(`
      UPDATE index_blocks b SET segment_id = n.segment_id, ordinal = n.ordinal
        FROM (SELECT k.repo_id, k.sha, k.start, s.id AS segment_id, (row_number() OVER (PARTITION BY k.repo_id ORDER BY k.sha, k.start) - 1)::int AS ordinal
                FROM index_blocks k JOIN index_segments s ON s.repo_id = k.repo_id) n
       WHERE b.repo_id = n.repo_id AND b.sha = n.sha AND b.start = n.start`);
    await q.query(`
      WITH pairs AS (
        SELECT b.segment_id, k AS key, b.ordinal FROM index_blocks b, unnest(b.keys) AS k WHERE k >= 0
      ), gaps AS (
        SELECT segment_id, key, ordinal, ordinal - coalesce(lag(ordinal) OVER (PARTITION BY segment_id, key ORDER BY ordinal), -1) - 1 AS gap FROM pairs
      ), lists AS (
        SELECT g.segment_id, g.key, string_agg(pg_temp.lettuce_varint(g.gap), ''::bytea ORDER BY g.ordinal) AS bytes FROM gaps g GROUP BY g.segment_id, g.key
      ), bucketed AS (
        SELECT l.segment_id, l.key, l.bytes, (((l.key::bigint * 2654435761) & 4294967295) >> (32 - s.bucket_bits))::int AS bucket
          FROM lists l JOIN index_segments s ON s.id = l.segment_id
      ), ended AS (
        SELECT *, (sum(length(bytes)) OVER (PARTITION BY segment_id, bucket ORDER BY key))::int AS end_at FROM bucketed
      )
      INSERT INTO index_postings (segment_id, bucket, keys, ends, postings)
      SELECT segment_id, bucket, array_agg(key ORDER BY key), array_agg(end_at ORDER BY key), string_agg(bytes, ''::bytea ORDER BY key)
        FROM ended GROUP BY segment_id, bucket`);
    await q.query(`DROP FUNCTION pg_temp.lettuce_varint(bigint)`);

    await q.query(`DROP INDEX index_blocks_keys`);
    await q.query(`ALTER TABLE index_blocks DROP CONSTRAINT index_blocks_pkey, DROP COLUMN keys`);
    await q.query(`ALTER TABLE index_blocks ALTER COLUMN segment_id SET NOT NULL, ALTER COLUMN ordinal SET NOT NULL`);
    await q.query(`ALTER TABLE index_blocks ADD PRIMARY KEY (segment_id, ordinal)`);
    await q.query(`CREATE INDEX index_blocks_blob ON index_blocks (repo_id, sha)`);
    await q.query(`
      CREATE FUNCTION index_segments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM index_postings p USING gone g WHERE p.segment_id = g.id;
        DELETE FROM index_blocks b USING gone g WHERE b.segment_id = g.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER index_segments_cleanup AFTER DELETE ON index_segments
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION index_segments_deleted()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER index_segments_cleanup ON index_segments`);
    await q.query(`DROP FUNCTION index_segments_deleted()`);
    await q.query(`ALTER TABLE index_blocks ADD COLUMN keys int4[]`);
    // The repo key of 1764300000300: FNV-1a of the lower-cased repo id, made negative.
    await q.query(`
      CREATE FUNCTION pg_temp.lettuce_repo_key(repo uuid) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
      DECLARE h bigint := 2166136261; s text := lower(repo::text); i int;
      BEGIN
        FOR i IN 1..length(s) LOOP
          h := ((h # ascii(substr(s, i, 1))) * 16777619) & 4294967295;
        END LOOP;
        RETURN (-1 - (h & 2147483647))::int;
      END $$`);
    await q.query(`
      CREATE FUNCTION pg_temp.lettuce_lists(keys int4[], ends int4[], postings bytea) RETURNS TABLE (key int, ordinal int) LANGUAGE plpgsql IMMUTABLE AS $$
      DECLARE j int; i int; prev int; gap bigint; shift int; b int;
      BEGIN
        FOR j IN 1..cardinality(keys) LOOP
          i := CASE WHEN j = 1 THEN 0 ELSE ends[j - 1] END;
          prev := -1;
          WHILE i < ends[j] LOOP
            gap := 0; shift := 0;
            LOOP
              b := get_byte(postings, i); i := i + 1;
              gap := gap + ((b & 127)::bigint << shift); shift := shift + 7;
              EXIT WHEN b < 128;
            END LOOP;
            prev := prev + gap + 1;
            key := keys[j]; ordinal := prev;
            RETURN NEXT;
          END LOOP;
        END LOOP;
      END $$`);
    await q.query(`
      UPDATE index_blocks b SET keys = k.keys
        FROM (SELECT p.segment_id, l.ordinal, array_agg(l.key ORDER BY l.key) AS keys
                FROM index_postings p, pg_temp.lettuce_lists(p.keys, p.ends, p.postings) l GROUP BY p.segment_id, l.ordinal) k
       WHERE b.segment_id = k.segment_id AND b.ordinal = k.ordinal`);
    await q.query(`UPDATE index_blocks SET keys = pg_temp.lettuce_repo_key(repo_id) || coalesce(keys, '{}')`);
    await q.query(`DROP FUNCTION pg_temp.lettuce_lists(int4[], int4[], bytea)`);
    await q.query(`DROP FUNCTION pg_temp.lettuce_repo_key(uuid)`);
    await q.query(`ALTER TABLE index_blocks ALTER COLUMN keys SET NOT NULL, ALTER COLUMN keys SET STORAGE EXTERNAL`);
    await q.query(`DROP INDEX index_blocks_blob`);
    await q.query(`ALTER TABLE index_blocks DROP CONSTRAINT index_blocks_pkey, DROP COLUMN segment_id, DROP COLUMN ordinal`);
    // A blob indexed twice in different segments had blocks twice: keep one.
    await q.query(`DELETE FROM index_blocks a USING index_blocks b WHERE a.repo_id = b.repo_id AND a.sha = b.sha AND a.start = b.start AND a.ctid > b.ctid`);
    await q.query(`ALTER TABLE index_blocks ADD PRIMARY KEY (repo_id, sha, start)`);
    await q.query(`CREATE INDEX index_blocks_keys ON index_blocks USING gin (keys)`);
    await q.query(`DROP TABLE index_postings`);
    await q.query(`DROP TABLE index_segments`);
  }
}

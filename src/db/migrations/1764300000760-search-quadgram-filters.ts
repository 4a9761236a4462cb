import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * index_segments.quad_bloom: a second Bloom filter per segment, of the 4-grams of its blobs' text
 * (src/indexer/quadgrams.ts). A rare identifier's trigrams all turn up in about a third of a big
 * repo's segments, its 4-grams in a few; the search rules out a segment when the filter lacks one
 * of the query's 4-grams, before it looks up a posting list. Nullable: segments written before
 * this migration hold NULL, "may contain anything", and are never skipped; nothing is rebuilt
 * here. Stored uncompressed and out of line when large, as trigram_bloom.
 */
export class SearchQuadgramFilters1764300000760 implements MigrationInterface {
  name = 'SearchQuadgramFilters1764300000760';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_segments ADD COLUMN quad_bloom bytea`);
    await q.query(`ALTER TABLE index_segments ALTER COLUMN quad_bloom SET STORAGE EXTERNAL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_segments DROP COLUMN quad_bloom`);
  }
}

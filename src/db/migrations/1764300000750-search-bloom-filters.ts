import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bloom filters that let a search over many repos skip what cannot match before reading it
 * (src/indexer/trigram-bloom.ts for the format):
 * - index_segments.trigram_bloom: the segment's trigram keys, written with the segment (and with
 *   the segment a merge writes); the search drops segments whose filter rules the query's trigram
 *   plan out before it looks up a single posting list.
 * - index_generations.path_bloom: the trigram keys of the generation's file paths, written when the
 *   generation is switched in (an incremental one: its base's filter plus the new paths); the
 *   search's file-name pass skips generations whose filter rules the plan out.
 * Both nullable: rows written before this migration (and by the version before, during a rolling
 * deploy) hold NULL, "may contain anything", and are never skipped; nothing is rebuilt here. Stored
 * uncompressed (random bits do not compress), out of line when large, so listing segments and
 * generations does not read them.
 */
export class SearchBloomFilters1764300000750 implements MigrationInterface {
  name = 'SearchBloomFilters1764300000750';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_segments ADD COLUMN trigram_bloom bytea`);
    await q.query(`ALTER TABLE index_segments ALTER COLUMN trigram_bloom SET STORAGE EXTERNAL`);
    await q.query(`ALTER TABLE index_generations ADD COLUMN path_bloom bytea`);
    await q.query(`ALTER TABLE index_generations ALTER COLUMN path_bloom SET STORAGE EXTERNAL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_generations DROP COLUMN path_bloom`);
    await q.query(`ALTER TABLE index_segments DROP COLUMN trigram_bloom`);
  }
}

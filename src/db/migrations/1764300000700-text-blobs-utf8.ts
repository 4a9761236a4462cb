import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Index text is UTF-8 from now on (src/indexer/encoding.ts decodes every blob before it is stored).
 * Indexes built before kept a non-UTF-8 file's raw bytes, which made PostgreSQL's convert_from
 * fail the file route and every search of the repo (500). Those blobs go (their blocks and
 * symbols with them, by the blob triggers) and their files are no longer text in the tree, so
 * nothing answers 500; the next build that touches such a file stores it decoded. One pass over
 * the blobs, each checked in a subtransaction of its own.
 */
export class TextBlobsUtf81764300000700 implements MigrationInterface {
  name = 'TextBlobsUtf81764300000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT repo_id, sha FROM index_blobs LOOP
          BEGIN
            PERFORM convert_from(content, 'UTF8') FROM index_blobs WHERE repo_id = r.repo_id AND sha = r.sha;
          EXCEPTION WHEN character_not_in_repertoire THEN
            DELETE FROM index_blobs WHERE repo_id = r.repo_id AND sha = r.sha;
            UPDATE index_entries SET is_text = false
             WHERE sha = r.sha AND is_text AND generation_id IN (SELECT id FROM index_generations WHERE repo_id = r.repo_id);
          END;
        END LOOP;
      END $$`);
  }

  async down(): Promise<void> {
    // Nothing to undo: the blobs removed were unreadable.
  }
}

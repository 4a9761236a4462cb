import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The size Bitbucket reported for a repo when it was added (bytes; null when unknown, e.g. a pasted
 * URL): a first clone of a repo already larger than MAX_REPO_SIZE fails before any transfer,
 * without another REST call against the consumer's hourly limit.
 */
export class RepoReportedSize1764300000710 implements MigrationInterface {
  name = 'RepoReportedSize1764300000710';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE repos ADD COLUMN reported_size bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE repos DROP COLUMN reported_size`);
  }
}

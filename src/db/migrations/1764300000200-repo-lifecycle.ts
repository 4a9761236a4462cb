import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A deleted repo disappears from the API at once (deleted_at) while its workflow removes the
 * webhook, clone and index; the same repo can be added again meanwhile, so uniqueness holds only
 * among live rows.
 */
export class RepoLifecycle1764300000200 implements MigrationInterface {
  name = 'RepoLifecycle1764300000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE repos ADD COLUMN deleted_at timestamptz`);
    await q.query(`ALTER TABLE repos DROP CONSTRAINT repos_account_id_source_key_key`);
    await q.query(`CREATE UNIQUE INDEX repos_live_source ON repos (account_id, source_key) WHERE deleted_at IS NULL`);
    await q.query(`CREATE INDEX repos_account ON repos (account_id, created_at) WHERE deleted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX repos_account`);
    await q.query(`DROP INDEX repos_live_source`);
    await q.query(`ALTER TABLE repos ADD CONSTRAINT repos_account_id_source_key_key UNIQUE (account_id, source_key)`);
    await q.query(`ALTER TABLE repos DROP COLUMN deleted_at`);
  }
}

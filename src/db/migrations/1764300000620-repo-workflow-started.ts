import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Adding a repo commits its row and answers; its workflow is started right after, off the request
 * path. The add inserts `workflow_started_at` NULL and sets it once that start succeeded, so a
 * start lost to a crash or to Temporal being down is made by the API's sweep
 * (src/repos/repo-starter.ts). Rows written any other way (before this migration, the add started
 * the workflow inside its transaction) count as started.
 */
export class RepoWorkflowStarted1764300000620 implements MigrationInterface {
  name = 'RepoWorkflowStarted1764300000620';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE repos ADD COLUMN workflow_started_at timestamptz DEFAULT now()`);
    await q.query(`CREATE INDEX repos_workflow_not_started ON repos (created_at) WHERE workflow_started_at IS NULL AND deleted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX repos_workflow_not_started`);
    await q.query(`ALTER TABLE repos DROP COLUMN workflow_started_at`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whole workspaces (CONTRACT §13): one row per workspace an account syncs, and on each repo the
 * workspace it was synced from (NULL for repos added by hand, and once the workspace stops syncing
 * or excludes it). `stopped_at` marks a workspace whose "Stop syncing" is being carried out (its
 * webhook removed): reads leave it out; its workflow deletes the row when done.
 * `task_queue_prefix` (on both tables) names the deployment whose API process starts the row's
 * workflow ('' in production; tests run several deployments on one database, as webhook_deliveries
 * already records): a repo a workspace listing registers has no request waiting on it, so its
 * workflow is started at once by the starter of the deployment that listed it, never another's.
 */
export class SyncedWorkspaces1764300000730 implements MigrationInterface {
  name = 'SyncedWorkspaces1764300000730';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE synced_workspaces (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        workspace text NOT NULL,
        name text NOT NULL,
        exclude jsonb NOT NULL DEFAULT '[]'::jsonb,
        webhook_scope text NOT NULL DEFAULT 'repo',
        webhook_status text NOT NULL DEFAULT 'none',
        webhook_error text,
        webhook_uuid text,
        last_synced_at timestamptz,
        error_code text,
        error_message text,
        stopped_at timestamptz,
        task_queue_prefix text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX synced_workspaces_account_workspace ON synced_workspaces (account_id, lower(workspace))`);
    await q.query(`ALTER TABLE repos ADD COLUMN synced_from text`);
    await q.query(`ALTER TABLE repos ADD COLUMN task_queue_prefix text NOT NULL DEFAULT ''`);
    await q.query(`CREATE INDEX repos_synced_from ON repos (account_id, lower(synced_from)) WHERE synced_from IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX repos_synced_from`);
    await q.query(`ALTER TABLE repos DROP COLUMN task_queue_prefix`);
    await q.query(`ALTER TABLE repos DROP COLUMN synced_from`);
    await q.query(`DROP TABLE synced_workspaces`);
  }
}

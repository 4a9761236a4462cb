import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Staying true to Bitbucket (CONTRACT §11). `background_backoff` is the one place every worker
 * learns that a git host answered 429: background reconciles wait until `until`, user-facing work
 * does not. `service_counters` holds counters that must survive restarts and be the same whichever
 * process serves /metrics (lettuce_reconcile_missed_pushes_total is counted by workers, served by
 * the API). Pushes to other branches are now dispatched too (outcome 'other_branch': the main
 * branch may have been renamed); those recorded before were settled when recorded.
 */
export class Reconcile1764300000550 implements MigrationInterface {
  name = 'Reconcile1764300000550';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE background_backoff (host text PRIMARY KEY, until timestamptz NOT NULL, strikes integer NOT NULL DEFAULT 1)`);
    await q.query(`CREATE TABLE service_counters (name text PRIMARY KEY, value bigint NOT NULL DEFAULT 0)`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN branch text`);
    // The last head counted as a missed push, so a check run again (a retried task) counts it once.
    await q.query(`ALTER TABLE repos ADD COLUMN missed_push_head text`);
    await q.query(`UPDATE webhook_deliveries SET dispatched_at = received_at WHERE outcome = 'other_branch' AND dispatched_at IS NULL`);
    await q.query(`DROP INDEX webhook_deliveries_undispatched`);
    await q.query(
      `CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (task_queue_prefix, received_at) WHERE outcome IN ('accepted', 'other_branch') AND dispatched_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_undispatched`);
    await q.query(`UPDATE webhook_deliveries SET dispatched_at = coalesce(dispatched_at, received_at) WHERE outcome = 'other_branch'`);
    await q.query(`CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (task_queue_prefix, received_at) WHERE outcome = 'accepted' AND dispatched_at IS NULL`);
    await q.query(`ALTER TABLE repos DROP COLUMN missed_push_head`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN branch`);
    await q.query(`DROP TABLE service_counters`);
    await q.query(`DROP TABLE background_backoff`);
  }
}

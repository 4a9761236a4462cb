import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The webhook receiver records an accepted push before it answers and before any Temporal call;
 * a dispatcher then signals each repo's workflow once per batch. `dispatched_at` is NULL while a
 * delivery still has to reach its workflow, so a crash between the two loses nothing.
 * `task_queue_prefix` names the deployment that accepted it: only that deployment's API processes
 * (same task queues, same payload codec) signal it, even where several share one database.
 */
export class DeliveryDispatch1764300000400 implements MigrationInterface {
  name = 'DeliveryDispatch1764300000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN commit text, ADD COLUMN dispatched_at timestamptz, ADD COLUMN task_queue_prefix text NOT NULL DEFAULT ''`);
    // Deliveries accepted before this migration were signalled before they were recorded.
    await q.query(`UPDATE webhook_deliveries SET dispatched_at = received_at WHERE outcome = 'accepted'`);
    await q.query(`CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (task_queue_prefix, received_at) WHERE outcome = 'accepted' AND dispatched_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_undispatched`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN task_queue_prefix, DROP COLUMN dispatched_at, DROP COLUMN commit`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every delivery is inserted once and, if dispatched, updated once, under the full load Bitbucket
 * sends: each index on webhook_deliveries is paid on both. `webhook_deliveries_repo` (repo_id,
 * received_at) is read by nothing since deliveries are dispatched from `_undispatched` and
 * recognised by their primary key (the reconcile's "is a push for this head still waiting?" reads
 * the few waiting rows through `_undispatched`), so it goes.
 */
export class DeliveryRecordLean1764300000610 implements MigrationInterface {
  name = 'DeliveryRecordLean1764300000610';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_repo`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX webhook_deliveries_repo ON webhook_deliveries (repo_id, received_at DESC)`);
  }
}

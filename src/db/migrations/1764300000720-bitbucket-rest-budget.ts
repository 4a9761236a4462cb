import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * BITBUCKET_REST_BUDGET (CONTRACT §13), shared by every process: the REST calls of each OAuth
 * consumer (its API root and client id) counted per time bucket (a sixtieth of the window) and
 * kind. `lettuce_take_rest_call` decides and counts in one statement (under one advisory lock, so
 * two processes never both take the last call); it answers 0 when the call may go, else how many
 * milliseconds to wait. A call counts until its whole bucket has left the window, so no rolling
 * window ever holds more than the budget. Totals for /metrics go to service_counters.
 */
export class BitbucketRestBudget1764300000720 implements MigrationInterface {
  name = 'BitbucketRestBudget1764300000720';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bitbucket_rest_calls (
        consumer text NOT NULL,
        bucket timestamptz NOT NULL,
        kind text NOT NULL CHECK (kind IN ('user', 'background')),
        calls integer NOT NULL,
        PRIMARY KEY (consumer, bucket, kind)
      )`);
    await q.query(`
      CREATE FUNCTION lettuce_take_rest_call(p_consumer text, p_kind text, p_cap integer, p_window interval, p_bucket interval) RETURNS double precision
      LANGUAGE plpgsql AS $$
      DECLARE
        now_ts timestamptz := clock_timestamp();
        since timestamptz := now_ts - p_window - p_bucket;
        spent integer;
        oldest timestamptz;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('lettuce_take_rest_call ' || p_consumer));
        SELECT coalesce(sum(calls), 0), min(bucket) INTO spent, oldest FROM bitbucket_rest_calls WHERE consumer = p_consumer AND bucket > since;
        IF spent >= p_cap THEN
          INSERT INTO service_counters (name, value) VALUES ('bitbucket_budget_waits', 1)
            ON CONFLICT (name) DO UPDATE SET value = service_counters.value + 1;
          RETURN greatest(1, extract(epoch FROM oldest - since) * 1000);
        END IF;
        INSERT INTO bitbucket_rest_calls (consumer, bucket, kind, calls) VALUES (p_consumer, date_bin(p_bucket, now_ts, timestamptz 'epoch'), p_kind, 1)
          ON CONFLICT (consumer, bucket, kind) DO UPDATE SET calls = bitbucket_rest_calls.calls + 1;
        INSERT INTO service_counters (name, value) VALUES ('bitbucket_rest_calls:' || p_kind, 1)
          ON CONFLICT (name) DO UPDATE SET value = service_counters.value + 1;
        DELETE FROM bitbucket_rest_calls WHERE consumer = p_consumer AND bucket <= since - p_bucket;
        RETURN 0;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION lettuce_take_rest_call(text, text, integer, interval, interval)`);
    await q.query(`DROP TABLE bitbucket_rest_calls`);
    await q.query(`DELETE FROM service_counters WHERE name LIKE 'bitbucket_%'`);
  }
}

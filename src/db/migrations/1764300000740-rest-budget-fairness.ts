import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The REST budget (migration 720) learns two rules of CONTRACT §13:
 * - accounts share the background budget fairly: calls are counted per account too, and while
 *   another account waits for budget (bitbucket_rest_waiters), an account that has had its share
 *   of the window (the background cap over the accounts wanting it) waits as well;
 * - after a 429, every process holds background calls back (bitbucket_rest_holds): 1 s, doubling
 *   with each 429 that follows within a minute, at most 10 s;
 * - background work leaves user-facing calls a reserve that grows with their demand: a tenth of the
 *   budget, or twice what they spent in the window if that is more. The budget stays a hard cap for
 *   all calls together (Bitbucket's limit is right above it), so a user-facing call waits only when
 *   the whole budget is spent, which with that reserve means users alone spent most of it.
 * lettuce_take_rest_call keeps its five-argument form (the account unknown) for processes of the
 * version before, during a rolling deploy.
 */
export class RestBudgetFairness1764300000740 implements MigrationInterface {
  name = 'RestBudgetFairness1764300000740';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE bitbucket_rest_calls ADD COLUMN account text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE bitbucket_rest_calls DROP CONSTRAINT bitbucket_rest_calls_pkey`);
    await q.query(`ALTER TABLE bitbucket_rest_calls ADD PRIMARY KEY (consumer, bucket, kind, account)`);
    await q.query(`CREATE TABLE bitbucket_rest_waiters (consumer text NOT NULL, account text NOT NULL, until timestamptz NOT NULL, PRIMARY KEY (consumer, account))`);
    await q.query(`CREATE TABLE bitbucket_rest_holds (consumer text PRIMARY KEY, until timestamptz NOT NULL, strikes integer NOT NULL, last_at timestamptz NOT NULL)`);
    await q.query(`
      CREATE FUNCTION lettuce_take_rest_call(p_consumer text, p_kind text, p_account text, p_budget integer, p_reserve integer, p_window interval, p_bucket interval) RETURNS double precision
      LANGUAGE plpgsql AS $$
      DECLARE
        now_ts timestamptz := clock_timestamp();
        since timestamptz := now_ts - p_window - p_bucket;
        spent integer;
        user_spent integer;
        cap integer;
        oldest timestamptz;
        mine integer;
        my_oldest timestamptz;
        others_waiting integer;
        held_until timestamptz;
        wait_ms double precision := 0;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('lettuce_take_rest_call ' || p_consumer));
        SELECT coalesce(sum(calls), 0), min(bucket), coalesce(sum(calls) FILTER (WHERE kind = 'user'), 0)
          INTO spent, oldest, user_spent FROM bitbucket_rest_calls WHERE consumer = p_consumer AND bucket > since;
        IF p_kind = 'user' THEN
          IF spent >= p_budget THEN
            wait_ms := greatest(1, extract(epoch FROM oldest - since) * 1000);
          END IF;
        ELSE
          cap := p_budget - greatest(p_reserve, 2 * user_spent);
          SELECT until INTO held_until FROM bitbucket_rest_holds WHERE consumer = p_consumer AND until > now_ts;
          IF held_until IS NOT NULL THEN
            wait_ms := greatest(1, extract(epoch FROM held_until - now_ts) * 1000);
          ELSIF spent >= cap THEN
            wait_ms := greatest(1, extract(epoch FROM oldest - since) * 1000);
          ELSE
            SELECT count(*) INTO others_waiting FROM bitbucket_rest_waiters WHERE consumer = p_consumer AND account <> p_account AND until > now_ts;
            IF others_waiting > 0 THEN
              SELECT coalesce(sum(calls), 0), min(bucket) INTO mine, my_oldest FROM bitbucket_rest_calls
               WHERE consumer = p_consumer AND bucket > since AND kind = 'background' AND account = p_account;
              IF mine >= cap::double precision / (others_waiting + 1) THEN
                wait_ms := greatest(1, extract(epoch FROM my_oldest - since) * 1000);
              END IF;
            END IF;
          END IF;
          IF wait_ms > 0 THEN
            -- Wanting budget: others stop at their share until this account has had its own.
            INSERT INTO bitbucket_rest_waiters (consumer, account, until) VALUES (p_consumer, p_account, now_ts + make_interval(secs => wait_ms / 1000 + 10))
              ON CONFLICT (consumer, account) DO UPDATE SET until = EXCLUDED.until;
          ELSE
            DELETE FROM bitbucket_rest_waiters WHERE consumer = p_consumer AND account = p_account;
          END IF;
        END IF;
        IF wait_ms > 0 THEN
          INSERT INTO service_counters (name, value) VALUES ('bitbucket_budget_waits', 1)
            ON CONFLICT (name) DO UPDATE SET value = service_counters.value + 1;
          RETURN wait_ms;
        END IF;
        INSERT INTO bitbucket_rest_calls (consumer, bucket, kind, account, calls) VALUES (p_consumer, date_bin(p_bucket, now_ts, timestamptz 'epoch'), p_kind, p_account, 1)
          ON CONFLICT (consumer, bucket, kind, account) DO UPDATE SET calls = bitbucket_rest_calls.calls + 1;
        INSERT INTO service_counters (name, value) VALUES ('bitbucket_rest_calls:' || p_kind, 1)
          ON CONFLICT (name) DO UPDATE SET value = service_counters.value + 1;
        DELETE FROM bitbucket_rest_calls WHERE consumer = p_consumer AND bucket <= since - p_bucket;
        RETURN 0;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION lettuce_take_rest_call(p_consumer text, p_kind text, p_cap integer, p_window interval, p_bucket interval) RETURNS double precision
      LANGUAGE sql AS $$ SELECT lettuce_take_rest_call(p_consumer, p_kind, '', p_cap, 0, p_window, p_bucket) $$`);
    await q.query(`
      CREATE FUNCTION lettuce_rest_rate_limited(p_consumer text) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        now_ts timestamptz := clock_timestamp();
      BEGIN
        INSERT INTO bitbucket_rest_holds AS h (consumer, until, strikes, last_at) VALUES (p_consumer, now_ts + interval '1 second', 1, now_ts)
          ON CONFLICT (consumer) DO UPDATE SET
            strikes = CASE WHEN h.last_at > now_ts - interval '1 minute' THEN h.strikes + 1 ELSE 1 END,
            until = now_ts + least(interval '10 seconds', interval '1 second' * power(2, CASE WHEN h.last_at > now_ts - interval '1 minute' THEN h.strikes ELSE 0 END)),
            last_at = now_ts;
        INSERT INTO service_counters (name, value) VALUES ('bitbucket_rate_limited', 1)
          ON CONFLICT (name) DO UPDATE SET value = service_counters.value + 1;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION lettuce_rest_rate_limited(text)`);
    await q.query(`DROP FUNCTION lettuce_take_rest_call(text, text, integer, interval, interval)`);
    await q.query(`DROP FUNCTION lettuce_take_rest_call(text, text, text, integer, integer, interval, interval)`);
    await q.query(`DROP TABLE bitbucket_rest_holds`);
    await q.query(`DROP TABLE bitbucket_rest_waiters`);
    await q.query(`DELETE FROM bitbucket_rest_calls WHERE account <> ''`);
    await q.query(`ALTER TABLE bitbucket_rest_calls DROP CONSTRAINT bitbucket_rest_calls_pkey`);
    await q.query(`ALTER TABLE bitbucket_rest_calls ADD PRIMARY KEY (consumer, bucket, kind)`);
    await q.query(`ALTER TABLE bitbucket_rest_calls DROP COLUMN account`);
    // Migration 720's function, as it was.
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
}

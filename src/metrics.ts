// Prometheus metrics (CONTRACT §10). One registry per process; the API serves it at /metrics.
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const httpRequestDuration = new client.Histogram({
  name: 'lettuce_http_request_duration_seconds',
  help: 'HTTP request latency by method, route and status.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const webhookDeliveries = new client.Counter({
  name: 'lettuce_webhook_deliveries_total',
  help: 'Bitbucket webhook deliveries by outcome (accepted, duplicate, ignored, invalid_signature, malformed, unknown_repo).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const indexDuration = new client.Histogram({
  name: 'lettuce_index_duration_seconds',
  help: 'Duration of index builds by kind (full, incremental) and outcome.',
  labelNames: ['kind', 'outcome'] as const,
  buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
  registers: [registry],
});

export const indexBytes = new client.Counter({
  name: 'lettuce_index_bytes_total',
  help: 'Bytes of source text indexed.',
  registers: [registry],
});

export const tokenRefreshes = new client.Counter({
  name: 'lettuce_token_refreshes_total',
  help: 'OAuth token refreshes by outcome (refreshed, reused, needs_reauth, retryable_error).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const pushDispatchLag = new client.Histogram({
  name: 'lettuce_webhook_dispatch_lag_seconds',
  help: "Time from an accepted push delivery's record to its repo workflow's signal.",
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const pushDispatchFailures = new client.Counter({
  name: 'lettuce_webhook_dispatch_failures_total',
  help: 'Signal attempts for recorded push deliveries that failed (retried with backoff; the deliveries stay recorded).',
  registers: [registry],
});

/**
 * Counters kept in PostgreSQL (service_counters): counted by whichever worker sees the event,
 * served by every API process's /metrics with the same value, and never reset by a restart.
 */
export const STORED_COUNTERS = {
  reconcileMissedPushes: {
    name: 'lettuce_reconcile_missed_pushes_total',
    help: 'Main-branch heads a reconcile found that no webhook delivery had announced although the repo webhook was active (CONTRACT §11).',
  },
} as const;

export type StoredCounter = keyof typeof STORED_COUNTERS;

/** Adds one to `counter` if `once` (a statement returning a row only the first time) returns a row. */
export async function incrementStoredCounterOnce(ds: Queryable, counter: StoredCounter, once: { sql: string; params: unknown[] }): Promise<void> {
  const n = once.params.length;
  await ds.query(
    `WITH first AS (${once.sql})
     INSERT INTO service_counters (name, value) SELECT $${n + 1}, 1 FROM first
     ON CONFLICT (name) DO UPDATE SET value = service_counters.value + 1`,
    [...once.params, STORED_COUNTERS[counter].name],
  );
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<Array<{ value: string }>>;
}

let storedCountersSource: Queryable | null = null;

for (const { name, help } of Object.values(STORED_COUNTERS)) {
  new client.Counter({
    name,
    help,
    registers: [registry],
    async collect() {
      try {
        const rows = (await storedCountersSource?.query(`SELECT value FROM service_counters WHERE name = $1`, [name])) ?? [];
        this.reset();
        this.inc(Number(rows[0]?.value ?? 0));
      } catch {
        // PostgreSQL is down: /metrics still answers, with the value last read.
      }
    },
  });
}

/**
 * BITBUCKET_REST_BUDGET's counts (CONTRACT §13), kept in service_counters by every process's
 * budget (migration 720, src/bitbucket/rest-budget.ts): metric, then row name → labels.
 */
const BUDGET_COUNTERS: Array<{ name: string; help: string; rows: Record<string, Record<string, string>> }> = [
  {
    name: 'lettuce_bitbucket_rest_calls_total',
    help: 'REST calls to Bitbucket resources it rate-limits (repositories, webhooks), by who asked: a user request or background work.',
    rows: { 'bitbucket_rest_calls:user': { kind: 'user' }, 'bitbucket_rest_calls:background': { kind: 'background' } },
  },
  { name: 'lettuce_bitbucket_rate_limited_total', help: 'Answers 429 from Bitbucket to those calls.', rows: { bitbucket_rate_limited: {} } },
  { name: 'lettuce_bitbucket_budget_waits_total', help: 'Times a call waited for BITBUCKET_REST_BUDGET (or a hold after a 429) instead of being sent.', rows: { bitbucket_budget_waits: {} } },
];

for (const { name, help, rows } of BUDGET_COUNTERS) {
  const labelNames = [...new Set(Object.values(rows).flatMap((l) => Object.keys(l)))];
  new client.Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      try {
        const found = (await storedCountersSource?.query(`SELECT name, value FROM service_counters WHERE name = ANY($1::text[])`, [Object.keys(rows)])) as
          | Array<{ name: string; value: string }>
          | undefined;
        if (!found) return;
        this.reset();
        for (const [row, labels] of Object.entries(rows)) this.inc(labels, Number(found.find((f) => f.name === row)?.value ?? 0));
      } catch {
        // PostgreSQL is down: /metrics still answers, with the values last read.
      }
    },
  });
}

/** Serves the stored counters from this database in this process's /metrics (read at each scrape). */
export function serveStoredCounters(ds: Queryable): void {
  storedCountersSource = ds;
}

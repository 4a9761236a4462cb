// Small helpers shared by the fault suite: waiting, reading PostgreSQL directly, holding a repo
// row so a worker blocks at a known write, and counting the webhooks the service owns.
import { Client } from 'pg';
import { freePort } from '../../../src/dev/processes';
import type { Logger } from '../../../src/logger';
import { seedDemo } from '../../fakes/bitbucket/seed';
import { startFakeBitbucket, type FakeBitbucket } from '../../fakes/bitbucket/server';
import { ownClientId } from '../../support/bitbucket';
import { sendRequest, startTestService, type RequestOptions, type TestService } from '../../support/service';
import { faultWorkflowBundle } from './fault-bundle';
import { startHoldProxy } from './hold-proxy';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export async function query<T = any>(sql: string, params: unknown[] = [], databaseUrl = process.env.TEST_DATABASE_URL): Promise<T[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return (await db.query(sql, params)).rows as T[];
  } finally {
    await db.end();
  }
}

/** The hooks this service created on a repo for one account (found by their URL). */
export function ourHooks(fake: FakeBitbucket, fullName: string, accountId: string) {
  const [ws, slug] = fullName.split('/');
  return fake.hooksOf(ws, slug).filter((h) => h.url.endsWith(`/v1/webhooks/bitbucket/${accountId}`));
}

/**
 * Takes FOR NO KEY UPDATE on a repo row in an open transaction: any UPDATE of the row by the
 * service blocks until `release()`, while foreign-key checks from the index tables (KEY SHARE)
 * still pass. `waiters()` lists the backends (pids) blocked on it.
 */
export function holdRepoRow(repoId: string, databaseUrl = process.env.TEST_DATABASE_URL) {
  return holdRow('repos', repoId, databaseUrl);
}

/** holdRepoRow for any table with an `id` (e.g. the index generation being built). */
export async function holdRow(table: 'repos' | 'index_generations', id: string, databaseUrl = process.env.TEST_DATABASE_URL) {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('BEGIN');
  await db.query(`SELECT id FROM ${table} WHERE id = $1 FOR NO KEY UPDATE`, [id]);
  const pid = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  return {
    async waiters(): Promise<string[]> {
      // (pg_stat_activity's query text of a backend waiting inside a pooled connection can be
      // stale, so only the lock wait itself counts.)
      const rows = await db.query(`SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pid]);
      return rows.rows.map((r) => String(r.pid));
    },
    /** Every backend waiting on a lock, and on what (for diagnosis). */
    async lockWaits(): Promise<string[]> {
      const rows = await db.query(`SELECT pid, pg_blocking_pids(pid) AS blockers, state, wait_event_type, wait_event, left(query, 120) AS query FROM pg_stat_activity WHERE wait_event_type = 'Lock' OR cardinality(pg_blocking_pids(pid)) > 0`);
      return rows.rows.map((r) => JSON.stringify(r));
    },
    async release(): Promise<void> {
      await db.query('ROLLBACK').catch(() => undefined);
      await db.end().catch(() => undefined);
    },
  };
}

/** Every value `read` returns while `body` runs, sampled every `intervalMs`. */
export async function sampleWhile<T, R>(read: () => Promise<T>, body: () => Promise<R>, intervalMs = 50): Promise<{ result: R; samples: T[] }> {
  const samples: T[] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      samples.push(await read());
      await sleep(intervalMs);
    }
  })();
  try {
    const result = await body();
    return { result, samples };
  } finally {
    done = true;
    await sampler;
  }
}

/** `POST /v1/repos` for a Bitbucket repo. */
export function addBitbucketRepo(svc: TestService, token: string, fullName: string) {
  return svc.request('POST', '/v1/repos', { token, body: { bitbucket: fullName } });
}

/** Files for a repo big enough that indexing takes several batches. */
export function manyFiles(count: number, prefix = 'src/gen'): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(5, '0');
    files[`${prefix}/m${Math.floor(i / 100)}/file_${n}.ts`] = `// generated ${n}\nexport function fn_${n}(x: number): number {\n  return x + ${i};\n}\nexport const marker_${n} = 'needle_${n}';\n`;
  }
  return files;
}

/**
 * The fake Bitbucket (demo data) and the service (API + in-process workers, reachable for webhook
 * deliveries) running the fault suite's workflow bundle. With `proxyApi` / `proxySite`, the
 * service reaches Bitbucket's REST API / site (OAuth) through a hold proxy.
 */
export async function startFaultStack(opts: { proxyApi?: boolean; proxySite?: boolean; env?: Record<string, string>; workers?: boolean; accessTokenTtlSeconds?: number; log?: Logger } = {}) {
  process.env.TEST_WORKFLOW_BUNDLE = await faultWorkflowBundle();
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', accessTokenTtlSeconds: opts.accessTokenTtlSeconds, clientId: ownClientId() });
  await seedDemo(fake);
  const apiProxy = opts.proxyApi ? await startHoldProxy(fake.apiUrl) : null;
  const siteProxy = opts.proxySite ? await startHoldProxy(fake.siteUrl) : null;
  const port = await freePort();
  const svc = await startTestService({
    env: {
      BITBUCKET_APP_CLIENT_ID: fake.clientId,
      BITBUCKET_APP_CLIENT_SECRET: fake.clientSecret,
      BITBUCKET_URL: siteProxy?.url ?? fake.siteUrl,
      BITBUCKET_API_URL: apiProxy?.url ?? fake.apiUrl,
      CODEWAZE_PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
      GIT_ALLOW_PRIVATE_HOSTS: 'true',
      ...opts.env,
    },
    workers: opts.workers,
    log: opts.log,
  });
  fake.setCallbackUrl(`${svc.url}/v1/integrations/bitbucket/callback`);
  return {
    fake,
    svc,
    apiProxy,
    siteProxy,
    stop: async () => {
      fake.clearFaults();
      await svc.stop();
      await apiProxy?.close();
      await siteProxy?.close();
      await fake.close();
    },
  };
}

/** A client for an API at `url`, shaped like TestService's (for connect(), waitForRepo(), …). */
export function apiClient(url: string): TestService {
  const client = {
    url,
    responses: [],
    async request(method: string, route: string, o: RequestOptions = {}) {
      const { res, parsed } = await sendRequest(url, method, route, o);
      return { status: res.status, body: parsed as any, headers: res.headers };
    },
  };
  return client as unknown as TestService;
}

/** Like waitForRepo, but errors of the API while a dependency is down count as "not yet". */
export async function waitForRepoThroughOutage(svc: TestService, token: string, id: string, done: (repo: any) => boolean, timeoutMs = 120_000) {
  const seen: string[] = [];
  let last: unknown = null;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await svc.request('GET', `/v1/repos/${id}`, { token });
      last = res.status === 200 ? res.body.repo : { status: res.status, body: res.body };
      if (res.status === 200) {
        if (seen[seen.length - 1] !== res.body.repo.status) seen.push(res.body.repo.status);
        if (done(res.body.repo)) return { repo: res.body.repo, seen };
      } else if (seen[seen.length - 1] !== `HTTP ${res.status}`) seen.push(`HTTP ${res.status}`);
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`repo ${id} never got there; last: ${JSON.stringify(last)}; seen: ${seen.join(' → ')}`);
    await sleep(200);
  }
}

// PostgreSQL restarted while a repo indexes: a dedicated embedded PostgreSQL (migrated by the
// service through openDatabase) is stopped and started again, same data directory and port, in
// the middle of an index. The API waits a short restart out (a read sent meanwhile answers once
// PostgreSQL is back), never crashes, and the repo ends ready at its head with a complete index and one webhook.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/dev/postgres';
import { freePort } from '../../src/dev/processes';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt } from '../support/repos';
import { createAccount, type TestService } from '../support/service';
import { addBitbucketRepo, manyFiles, ourHooks, query, sleep, startFaultStack, waitForRepoThroughOutage, waitUntil } from './support/harness';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let pg: EmbeddedPostgres | null = null;
let pgOptions: Parameters<typeof startEmbeddedPostgres>[0];

beforeAll(async () => {
  pgOptions = {
    dir: fs.mkdtempSync(path.join(process.env.TEST_TMP_DIR!, 'pg-restart-')),
    port: await freePort(),
    password: crypto.randomBytes(12).toString('hex'),
    database: 'lettuce_pg_restart',
  };
  pg = await startEmbeddedPostgres(pgOptions);
  ({ fake, svc, stop } = await startFaultStack({ env: { DATABASE_URL: pg.url } }));
}, 180_000);
afterAll(async () => {
  await stop?.();
  await pg?.stop();
});

it('a repo indexing across a PostgreSQL restart ends ready, with a complete index and one webhook', async () => {
  const FILES = 1500;
  const { token, accountId } = await createAccount(svc);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  await fake.addRepo({ workspace: 'demo', slug: 'big-pg', files: manyFiles(FILES), owner: DEMO.user });
  const head = await fake.headOf('demo', 'big-pg');
  const res = await addBitbucketRepo(svc, token, 'demo/big-pg');
  expect(res.status).toBe(202);
  const id = res.body.repo.id;
  await waitUntil('the repo indexing', async () => (await svc.request('GET', `/v1/repos/${id}`, { token })).body.repo.status === 'indexing', 60_000, 50);

  await pg!.stop();
  pg = null;
  // A read sent while PostgreSQL is down waits the restart out and answers (database-restart.ts);
  // the probes answer at once.
  const sentAt = Date.now();
  const duringRestart = svc.request('GET', `/v1/repos/${id}`, { token });
  expect((await svc.request('GET', '/readyz')).status).toBe(503);
  expect((await svc.request('GET', '/healthz')).status).toBe(200);
  await sleep(2_000);
  pg = await startEmbeddedPostgres(pgOptions);
  const answered = await duringRestart;
  expect(answered.status).toBe(200);
  expect(answered.body.repo.id).toBe(id);
  expect(Date.now() - sentAt).toBeGreaterThan(2_000);

  const { repo } = await waitForRepoThroughOutage(svc, token, id, isReadyAt(head), 180_000);
  expect(repo.error).toBeNull();
  expect(repo.webhook).toEqual({ status: 'active', error: null });
  expect(ourHooks(fake, 'demo/big-pg', accountId)).toHaveLength(1);
  expect(await query(`SELECT commit, file_count FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [id], pg.url)).toEqual([{ commit: head, file_count: FILES }]);
  expect((await query(`SELECT count(*)::int AS n FROM repos WHERE account_id = $1`, [accountId], pg.url))[0].n).toBe(1);
  expect((await svc.request('GET', '/readyz')).status).toBe(200);
}, 400_000);

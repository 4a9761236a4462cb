// kill -9 of the worker in the middle of an OAuth token refresh (the worker holds the
// installation's row lock and waits for Bitbucket's token endpoint). Bitbucket rotates refresh
// tokens, so there are two outcomes, and both must be clean — never a silent retry loop:
//  A. killed before Bitbucket processed the refresh: the next worker refreshes with the same
//     refresh token — one refresh, a working token, the re-index completes;
//  B. killed after Bitbucket rotated the token but before the new pair was committed: the stored
//     refresh token is dead, so the next attempt is refused once and the installation shows
//     needs_reauth (and the repo failed with needs_reauth); no further refresh attempts; a
//     reconnect brings the repo back by itself.
// The service reaches Bitbucket's site (token endpoint) through a proxy that can let the
// refresh through and withhold the answer (case B).
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';
import { compiledProject, startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { faultWorkflowBundle } from './support/fault-bundle';
import type { HoldProxy } from './support/hold-proxy';
import { addBitbucketRepo, ourHooks, query, sleep, startFaultStack, waitUntil } from './support/harness';

const TOKEN_PATH = '/site/oauth2/access_token';

let fake: FakeBitbucket;
let svc: TestService;
let siteProxy: HoldProxy;
let stop: () => Promise<void>;
let worker: WorkerProcess | null = null;
let bundle: string;

const startWorker = () => startWorkerProcess(svc.config, { WORKFLOW_BUNDLE_PATH: bundle });
const tokenCalls = () => fake.stats().requests[`POST ${TOKEN_PATH}`] ?? 0;

beforeAll(async () => {
  [, bundle] = await Promise.all([compiledProject(), faultWorkflowBundle()]);
  const stack = await startFaultStack({ workers: false, proxySite: true });
  ({ fake, svc, stop } = stack);
  siteProxy = stack.siteProxy!;
  worker = await startWorker();
}, 180_000);
afterAll(async () => {
  await worker?.stop();
  await stop?.();
});

/** A connected account with one ready repo, whose stored access token the service now judges expiring. */
async function readyRepoWithExpiringToken(fullName: string) {
  const { token, accountId } = await createAccount(svc);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  const res = await addBitbucketRepo(svc, token, fullName);
  const id = res.body.repo.id;
  const [ws, slug] = fullName.split('/');
  await waitForRepo(svc, token, id, isReadyAt(await fake.headOf(ws, slug)), 90_000);
  await query(`UPDATE provider_installations SET expires_at = now() WHERE account_id = $1`, [accountId]);
  return { token, accountId, id };
}

it('killed before Bitbucket processed the refresh: one refresh afterwards, a working token, the re-index completes', async () => {
  const { token, accountId, id } = await readyRepoWithExpiringToken(DEMO.repos.hello);
  const sha = await fake.commit('demo', 'hello-ts', { 'src/refresh-a.ts': 'export const a = 1;\n' });
  const { refreshes, refreshFailures, faultsServed } = fake.stats();
  fake.injectFault({ method: 'POST', path: TOKEN_PATH, hang: true, times: 1 });
  expect((await svc.request('POST', `/v1/repos/${id}/reindex`, { token })).status).toBe(202);
  await waitUntil('the worker waiting on the token endpoint', () => fake.stats().faultsServed > faultsServed, 60_000);
  await worker!.kill9();
  worker = null;
  fake.clearFaults();

  worker = await startWorker();
  const { repo } = await waitForRepo(svc, token, id, isReadyAt(sha), 120_000);
  expect(repo.webhook).toEqual({ status: 'active', error: null });
  expect(fake.stats().refreshes - refreshes).toBe(1);
  expect(fake.stats().refreshFailures - refreshFailures).toBe(0);
  expect((await svc.request('GET', '/v1/integrations/bitbucket', { token })).body.needsReauth).toBe(false);
  const [row] = await query(`SELECT expires_at > now() + interval '10 minutes' AS fresh FROM provider_installations WHERE account_id = $1`, [accountId]);
  expect(row.fresh).toBe(true);
  expect(ourHooks(fake, DEMO.repos.hello, accountId)).toHaveLength(1);
}, 240_000);

it('killed after Bitbucket rotated the refresh token: one refused refresh, then needs_reauth and no retry loop; a reconnect recovers', async () => {
  const { token, accountId, id } = await readyRepoWithExpiringToken(DEMO.repos.worker);
  const sha = await fake.commit('acme', 'worker-py', { 'jobs/refresh_b.py': 'def b():\n    return 2\n' });
  const { refreshes, refreshFailures } = fake.stats();
  siteProxy.holdAnswers({ method: 'POST', path: new RegExp(`^${TOKEN_PATH}$`), times: 1 });
  expect((await svc.request('POST', `/v1/repos/${id}/reindex`, { token })).status).toBe(202);
  // Bitbucket has rotated the pair (the old refresh token is dead); the worker never heard back.
  await waitUntil('Bitbucket to process the refresh', () => siteProxy.held() === 1 && fake.stats().refreshes === refreshes + 1, 60_000);
  await worker!.kill9();
  worker = null;
  siteProxy.dropHeld();

  worker = await startWorker();
  const { repo } = await waitForRepo(svc, token, id, (r) => r.status === 'failed', 120_000);
  expect(repo.error.code).toBe('needs_reauth');
  expect(repo.lastIndexedCommit).not.toBe(sha); // the last good index is kept
  expect((await svc.request('GET', '/v1/integrations/bitbucket', { token })).body).toMatchObject({ connected: true, needsReauth: true });
  expect(fake.stats().refreshFailures - refreshFailures).toBe(1);

  // No silent retry loop: nothing calls the token endpoint any more, and the repo stays failed.
  const calls = tokenCalls();
  await sleep(8_000);
  expect(tokenCalls()).toBe(calls);
  expect(fake.stats().refreshFailures - refreshFailures).toBe(1);
  expect((await svc.request('GET', `/v1/repos/${id}`, { token })).body.repo.status).toBe('failed');
  const add = await addBitbucketRepo(svc, token, DEMO.repos.api);
  expect([add.status, add.body.error?.code]).toEqual([409, 'needs_reauth']);

  // Reconnecting brings the repo back by itself, at the newest head.
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  await waitForRepo(svc, token, id, isReadyAt(sha), 120_000);
  expect(ourHooks(fake, DEMO.repos.worker, accountId)).toHaveLength(1);
}, 300_000);

// Staying true to Bitbucket (CONTRACT §5, §6, §8, §11), end to end against the fake: the real API,
// workers, Temporal and PostgreSQL, with REPO_RECONCILE_INTERVAL at a few seconds so a lost
// delivery, a deleted repo or a disconnect shows within a test's time.
import { Client } from 'pg';
import type { Delivery } from '../fakes/bitbucket/delivery';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { getRepo, isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';

const INTERVAL_S = 3;
const FULL_SCOPES = 'account team project repository:write webhook';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, env: { REPO_RECONCILE_INTERVAL: `${INTERVAL_S}s` } }));
});
afterAll(() => stop?.());
afterEach(() => fake.setConsumer({ scopes: FULL_SCOPES, privateConsumer: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectedAccount() {
  const account = await createAccount(svc);
  fake.setCurrentUser(DEMO.user);
  expect((await connect(svc, account.token)).location).toContain('bitbucket=connected');
  return account;
}

async function addReady(token: string, fullName: string) {
  const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: fullName } });
  expect(res.status).toBe(202);
  const [ws, slug] = fullName.split('/');
  const { repo } = await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf(ws, slug)));
  return repo;
}

async function integration(token: string) {
  return (await svc.request('GET', '/v1/integrations/bitbucket', { token })).body;
}

async function missedPushes(): Promise<number> {
  const text = (await svc.request('GET', '/metrics')).body as string;
  return Number(/^lettuce_reconcile_missed_pushes_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function sql(text: string, params: unknown[] = []) {
  const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
  try {
    return (await db.query(text, params)).rows;
  } finally {
    await db.end();
  }
}

const within = (seconds: number) => seconds * 1000;

describe('reconcile', () => {
  it('indexes a commit whose delivery never came within the interval, and counts the missed push', async () => {
    const { token } = await connectedAccount();
    const repo = await addReady(token, DEMO.repos.api);
    expect(repo.webhook.status).toBe('active');
    const missedBefore = await missedPushes();
    const sha = await fake.commit('acme', 'api', { 'src/lost.ts': 'export const lost = true;\n' }); // no deliverPush: every delivery lost
    await waitForRepo(svc, token, repo.id, isReadyAt(sha), within(INTERVAL_S + 30));
    // Counted at the check after the one that found it (a delivery merely late by then is not blamed), once.
    await waitFor(async () => ((await missedPushes()) > missedBefore ? true : undefined), within(INTERVAL_S * 2 + 30));
    await sleep(within(INTERVAL_S * 2));
    expect(await missedPushes()).toBe(missedBefore + 1);
    // The file's name matches too (CONTRACT §14: line 0); its line is the content that was lost.
    expect((await svc.request('GET', `/v1/repos/${repo.id}/search?q=lost`, { token })).body.results.filter((r: { line: number }) => r.line > 0)).toEqual([expect.objectContaining({ path: 'src/lost.ts', line: 1 })]);
  });

  it('a delivered push is not counted as missed', async () => {
    const { token } = await connectedAccount();
    const repo = await addReady(token, DEMO.repos.hello);
    const missedBefore = await missedPushes();
    const sha = await fake.commit('demo', 'hello-ts', { 'src/seen.ts': 'export const seen = 1;\n' });
    await fake.deliverPush('demo', 'hello-ts');
    await waitForRepo(svc, token, repo.id, isReadyAt(sha));
    await sleep(within(INTERVAL_S * 2)); // a reconcile or two afterwards
    expect(await missedPushes()).toBe(missedBefore);
  });

  it('fetches nothing and writes nothing visible while nothing changes, over several intervals', async () => {
    const { token } = await connectedAccount();
    const repo = await addReady(token, DEMO.repos.worker);
    await sleep(500);
    const before = fake.stats();
    const statuses = new Set<string>();
    const deadline = Date.now() + within(INTERVAL_S * 3 + 1);
    while (Date.now() < deadline) {
      const now = await getRepo(svc, token, repo.id);
      statuses.add(now.status);
      expect(now.lastIndexedAt).toBe(repo.lastIndexedAt);
      expect(now.lastIndexedCommit).toBe(repo.lastIndexedCommit);
      await sleep(100);
    }
    const after = fake.stats();
    expect([...statuses]).toEqual(['ready']);
    expect(after.gitPackFetches - before.gitPackFetches).toBe(0); // every repo of this file is reconciled; none fetched
    expect(after.gitFetches - before.gitFetches).toBeGreaterThanOrEqual(3); // …but they were checked (ref listings)
    const [row] = await sql(`SELECT updated_at FROM repos WHERE id = $1`, [repo.id]);
    expect(new Date(row.updated_at).getTime()).toBeLessThan(Date.parse(repo.lastIndexedAt) + 1000);
  });

  it('a repo deleted on Bitbucket fails with repo_gone at the next reconcile and keeps serving its last index', async () => {
    await fake.addRepo({ workspace: 'demo', slug: 'doomed', owner: DEMO.user, files: { 'README.md': '# doomed\n' } });
    const { token } = await connectedAccount();
    const repo = await addReady(token, 'demo/doomed');
    await fake.removeRepo('demo/doomed');
    const { repo: failed } = await waitForRepo(svc, token, repo.id, (r) => r.status === 'failed', within(INTERVAL_S + 30));
    expect(failed.error.code).toBe('repo_gone');
    expect(failed.error.message).toMatch(/deleted on Bitbucket|can no longer read/);
    expect(failed.lastIndexedCommit).toBe(repo.lastIndexedCommit);
    const file = await svc.request('GET', `/v1/repos/${repo.id}/file?path=README.md`, { token });
    expect([file.status, file.body.content]).toEqual([200, '# doomed\n']);
  });

  it('follows a main branch renamed on Bitbucket (master → main) with no push at all', async () => {
    await fake.addRepo({ workspace: 'demo', slug: 'renamed-quietly', owner: DEMO.user, mainbranch: 'master', files: { 'README.md': '# quiet\n' } });
    const { token } = await connectedAccount();
    const repo = await addReady(token, 'demo/renamed-quietly');
    const mainHead = await fake.commit('demo', 'renamed-quietly', { 'src/main.ts': 'export {};\n' }, { branch: 'main' });
    await fake.setMainBranch('demo', 'renamed-quietly', 'main');
    const { repo: followed } = await waitForRepo(svc, token, repo.id, isReadyAt(mainHead), within(INTERVAL_S + 30));
    expect(followed.defaultBranch).toBe('main');
  });

  it('a 429 from the git host backs every reconcile off, while a repo someone adds is still cloned', async () => {
    const { token } = await connectedAccount();
    await addReady(token, DEMO.repos.public);
    fake.injectFault({ method: 'GET', path: /\/info\/refs$/, status: 429, times: 1 });
    const [backoff] = await waitFor(async () => (await sql(`SELECT until FROM background_backoff WHERE host = $1`, [new URL(fake.siteUrl).host]))[0], within(INTERVAL_S + 30));
    expect(new Date(backoff.until).getTime()).toBeGreaterThan(Date.now() + 20_000);
    await sleep(1000);
    const listingsBefore = fake.stats().gitFetches;
    await sleep(within(INTERVAL_S * 2));
    expect(fake.stats().gitFetches).toBe(listingsBefore); // no reconcile of any repo while the host backs off
    const other = await connectedAccount();
    await addReady(other.token, DEMO.repos.hello); // user-facing: not held back
    await sql(`DELETE FROM background_backoff`);
  });
});

describe('reconnect heals', () => {
  it('after a disconnect a public repo keeps re-indexing, a private one fails and serves its last index; a reconnect brings it to the new head by itself', async () => {
    const { token } = await connectedAccount();
    const pub = await addReady(token, DEMO.repos.public);
    const priv = await addReady(token, DEMO.repos.api);
    expect((await svc.request('DELETE', '/v1/integrations/bitbucket', { token })).status).toBe(204);

    const pubSha = await fake.commit('oss-lab', 'go-tools', { 'main.go': 'package main\n\nfunc main() {}\n' });
    await fake.deliverPush('oss-lab', 'go-tools');
    await waitForRepo(svc, token, pub.id, isReadyAt(pubSha));

    const privSha = await fake.commit('acme', 'api', { 'src/after.ts': 'export const after = 1;\n' });
    await fake.deliverPush('acme', 'api');
    const { repo: failed } = await waitForRepo(svc, token, priv.id, (r) => r.status === 'failed');
    expect(failed.error.code).toBe('not_connected');
    expect(failed.lastIndexedCommit).toBe(priv.lastIndexedCommit);
    expect((await svc.request('GET', `/v1/repos/${priv.id}/file?path=README.md`, { token })).status).toBe(200);

    expect((await connect(svc, token)).location).toContain('bitbucket=connected');
    const { repo: healed } = await waitForRepo(svc, token, priv.id, isReadyAt(privSha));
    expect(healed.error).toBeNull();
  });

  it('a consumer without the Webhooks permission: missingScopes names it, webhook.error says so; reconnecting with it creates the hook by itself', async () => {
    fake.setConsumer({ scopes: 'account team project repository:write' });
    const { token, accountId } = await connectedAccount();
    expect((await integration(token)).missingScopes).toEqual(['webhook']);
    const repo = await addReady(token, DEMO.repos.hello);
    expect(repo.webhook.status).toBe('failed');
    expect(repo.webhook.error).toMatch(/lacks the "Webhooks: Read and write" permission/);
    expect(repo.webhook.error).not.toMatch(/not an admin/);
    expect(repo.webhook.error).toMatch(/checked for new commits every 3 seconds/);
    const ours = () => fake.hooksOf('demo', 'hello-ts').filter((h) => h.url.endsWith(accountId));
    expect(ours()).toHaveLength(0);

    fake.setConsumer({ scopes: FULL_SCOPES }); // the operator ticks Webhooks: Read and write
    expect((await integration(token)).missingScopes).toEqual(['webhook']); // the grant keeps its scopes until a reconnect
    expect((await connect(svc, token)).location).toContain('bitbucket=connected');
    expect((await integration(token)).missingScopes).toEqual([]);
    const { repo: hooked } = await waitForRepo(svc, token, repo.id, (r) => r.webhook.status === 'active');
    expect(hooked.webhook.error).toBeNull();
    await sleep(500);
    expect(ours()).toHaveLength(1);
  });

  it('a user who is not a repo admin is told that, not that a permission is missing', async () => {
    const { token } = await connectedAccount();
    const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: DEMO.repos.contributorOnly } });
    const { repo } = await waitForRepo(svc, token, res.body.repo.id, (r) => r.status === 'ready');
    expect(repo.webhook.status).toBe('failed');
    expect(repo.webhook.error).toMatch(/not an admin of this repository/);
    expect(repo.webhook.error).not.toMatch(/Webhooks: Read and write/);
  });
});

describe('a public OAuth consumer', () => {
  it('ends the callback with consumer_not_private, saves nothing and keeps an existing connection', async () => {
    const { token } = await connectedAccount();
    const before = await integration(token);
    const rowsBefore = await sql(`SELECT id, access_token, refresh_token, updated_at FROM provider_installations ORDER BY id`);

    fake.setConsumer({ privateConsumer: false });
    expect((await connect(svc, token)).location).toBe(`${svc.config.publicUrl}/repos?bitbucket_error=consumer_not_private`);
    expect(await integration(token)).toEqual(before);
    expect(await sql(`SELECT id, access_token, refresh_token, updated_at FROM provider_installations ORDER BY id`)).toEqual(rowsBefore);

    const fresh = await createAccount(svc);
    expect((await connect(svc, fresh.token)).location).toContain('bitbucket_error=consumer_not_private');
    expect((await integration(fresh.token)).connected).toBe(false);
  });
});

describe('push shapes (CONTRACT §8)', () => {
  it('tags, deletions, other branches and empty pushes get 2xx and fetch nothing; a push of several refs counts its main-branch change', async () => {
    const { token, accountId } = await connectedAccount();
    const repo = await addReady(token, DEMO.repos.worker);
    const indexed = repo.lastIndexedCommit;
    const ours = (deliveries: Delivery[]) => deliveries.filter((d) => d.url.endsWith(accountId)); // other accounts of this file have hooks here too
    await sleep(500);
    const packsBefore = fake.stats().gitPackFetches;

    await fake.tag('acme', 'worker-py', 'v1.0.0');
    await fake.commit('acme', 'worker-py', { 'feature.py': 'x = 1\n' }, { branch: 'feature' });
    const pushes = [
      ours(await fake.deliverChanges('acme', 'worker-py', [{ tag: 'v1.0.0' }])),
      ours(await fake.deliverChanges('acme', 'worker-py', [{ branch: 'feature' }])),
    ];
    await fake.deleteBranch('acme', 'worker-py', 'feature');
    pushes.push(ours(await fake.deliverChanges('acme', 'worker-py', [{ branch: 'feature', newHash: null }])));
    pushes.push(ours(await fake.deliverEvent('acme', 'worker-py', 'repo:push', { push: { changes: [] }, repository: { type: 'repository', full_name: 'acme/worker-py', uuid: fake.repo('acme', 'worker-py')!.uuid } })));
    for (const deliveries of pushes) expect(deliveries.map((d) => [d.status, d.attempts])).toEqual([[202, 1]]);
    const deletion = JSON.parse(pushes[2][0].body).push.changes[0];
    expect([deletion.new, deletion.closed, 'commits' in deletion, 'links' in deletion]).toEqual([null, true, false, false]);
    expect(JSON.parse(pushes[0][0].body).push.changes[0].new).toMatchObject({ type: 'tag', tagger: null, date: null });
    expect('slug' in JSON.parse(pushes[0][0].body).repository).toBe(false);
    await sleep(within(INTERVAL_S) + 500);
    expect(fake.stats().gitPackFetches).toBe(packsBefore);
    expect((await getRepo(svc, token, repo.id)).lastIndexedCommit).toBe(indexed);

    // One push of a tag, another branch and the main branch (more than five commits: truncated).
    let head = '';
    for (let i = 0; i < 7; i++) head = await fake.commit('acme', 'worker-py', { 'worker/n.py': `n = ${i}\n` });
    await fake.tag('acme', 'worker-py', 'v1.1.0');
    await fake.commit('acme', 'worker-py', { 'other.py': 'y = 2\n' }, { branch: 'other' });
    const [several] = ours(await fake.deliverChanges('acme', 'worker-py', [{ tag: 'v1.1.0' }, { branch: 'other' }, {}]));
    expect(several.status).toBe(202);
    expect(JSON.parse(several.body).push.changes[2].truncated).toBe(true);
    await waitForRepo(svc, token, repo.id, isReadyAt(head)); // by the push: its delivery is `accepted` below
    const rows = await sql(`SELECT outcome FROM webhook_deliveries WHERE request_uuid = ANY($1::text[]) ORDER BY received_at`, [[...pushes.flat(), several].map((d) => d.requestUuid)]);
    expect(rows.map((r) => r.outcome)).toEqual(['other_ref', 'other_branch', 'other_ref', 'other_ref', 'accepted']);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<[T]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return [value];
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(100);
  }
}

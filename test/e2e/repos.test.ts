// Repos and webhooks end to end: the real API, worker, Temporal and PostgreSQL against the fake
// Bitbucket (REST, hooks, git over HTTP, signed deliveries).
import crypto from 'node:crypto';
import { Client } from 'pg';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { waitForRepo, isReadyAt, getRepo } from '../support/repos';
import { dumpDatabase, dumpHistories, findLeaks } from '../support/secrets-scan';
import { createAccount, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true }));
});
afterAll(() => stop?.());

async function connectedAccount() {
  const account = await createAccount(svc);
  fake.setCurrentUser(DEMO.user);
  expect((await connect(svc, account.token)).location).toContain('bitbucket=connected');
  return account;
}

async function addBitbucket(token: string, fullName: string) {
  return svc.request('POST', '/v1/repos', { token, body: { bitbucket: fullName } });
}

async function countRows(sql: string, params: unknown[]): Promise<number> {
  const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
  try {
    return (await db.query(sql, params)).rows[0].n;
  } finally {
    await db.end();
  }
}

describe('adding Bitbucket repos', () => {
  it('goes pending → ready with exactly one webhook, and adding again returns the same repo', async () => {
    const { token, accountId } = await connectedAccount();
    const res = await addBitbucket(token, DEMO.repos.api);
    expect(res.status).toBe(202);
    expect(res.body.repo).toMatchObject({ source: 'bitbucket', name: 'acme/api', status: 'pending', isPrivate: true, lastIndexedCommit: null, error: null });
    expect(res.body.repo.cloneUrl).not.toMatch(/@/);
    const head = await fake.headOf('acme', 'api');
    const { repo } = await waitForRepo(svc, token, res.body.repo.id, isReadyAt(head));
    expect(repo.webhook).toEqual({ status: 'active', error: null });
    expect(repo.defaultBranch).toBe('main');
    expect(repo.lastIndexedAt).toEqual(expect.any(String));

    const hooks = fake.hooksOf('acme', 'api').filter((h) => h.url.includes(accountId));
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ url: `${svc.config.publicUrl}/v1/webhooks/bitbucket/${accountId}`, events: ['repo:push'], active: true });

    const again = await addBitbucket(token, DEMO.repos.api);
    expect(again.status).toBe(200);
    expect(again.body.repo.id).toBe(res.body.repo.id);
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.hooksOf('acme', 'api').filter((h) => h.url.includes(accountId))).toHaveLength(1);
    expect((await svc.request('GET', '/v1/repos', { token })).body.repos.map((r: any) => r.id)).toEqual([res.body.repo.id]);
  });

  it('indexes a contributor-only repo but reports the webhook it could not create', async () => {
    const { token } = await connectedAccount();
    const res = await addBitbucket(token, DEMO.repos.contributorOnly);
    const { repo } = await waitForRepo(svc, token, res.body.repo.id, (r) => r.status === 'ready');
    expect(repo.webhook.status).toBe('failed');
    expect(repo.webhook.error).toMatch(/admin/);
    expect(fake.hooksOf('acme', 'frontend')).toHaveLength(0);
  });

  it('answers 404 bitbucket_repo_not_found for a repo the user cannot see, 409 when not connected', async () => {
    const { token } = await connectedAccount();
    const res = await addBitbucket(token, 'acme/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('bitbucket_repo_not_found');
    const other = await createAccount(svc);
    expect((await addBitbucket(other.token, DEMO.repos.api)).body.error.code).toBe('not_connected');
    for (const body of [{}, { bitbucket: 'no-slash' }, { bitbucket: 'a/b', url: 'https://x/y' }, { url: 42 }, { extra: 1, bitbucket: 'a/b' }]) {
      const bad = await svc.request('POST', '/v1/repos', { token, body });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_request');
    }
  });
});

describe('pushes', () => {
  let token: string;
  let accountId: string;
  let repoId: string;

  beforeAll(async () => {
    ({ token, accountId } = await connectedAccount());
    const res = await addBitbucket(token, DEMO.repos.hello);
    repoId = res.body.repo.id;
    await waitForRepo(svc, token, repoId, isReadyAt(await fake.headOf('demo', 'hello-ts')));
  });

  it('a signed push from Bitbucket re-indexes to the new head', async () => {
    const sha = await fake.commit('demo', 'hello-ts', { 'src/new-file.ts': 'export const answer = 42;\n' });
    const [delivery] = await fake.deliverPush('demo', 'hello-ts');
    expect(delivery.status).toBe(202);
    await waitForRepo(svc, token, repoId, isReadyAt(sha));
  });

  it('a tampered signature gets 401 and nothing runs', async () => {
    const before = await getRepo(svc, token, repoId);
    const body = JSON.stringify({ push: { changes: [{ new: { type: 'branch', name: 'main', target: { hash: 'f'.repeat(40) } } }] }, repository: { full_name: 'demo/hello-ts' } });
    const res = await fetch(`${svc.url}/v1/webhooks/bitbucket/${accountId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-event-key': 'repo:push', 'x-request-uuid': crypto.randomUUID(), 'x-hub-signature': `sha256=${'0'.repeat(64)}` },
      body,
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe('invalid_signature');
    const noSignature = await fetch(`${svc.url}/v1/webhooks/bitbucket/${accountId}`, { method: 'POST', headers: { 'x-event-key': 'repo:push' }, body });
    expect(noSignature.status).toBe(401);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await getRepo(svc, token, repoId);
    expect(after.lastIndexedCommit).toBe(before.lastIndexedCommit);
    expect(after.status).toBe('ready');
  });

  it('a redelivery is acknowledged and not processed twice', async () => {
    const sha = await fake.commit('demo', 'hello-ts', { 'README.md': '# redelivery\n' });
    const [first] = await fake.deliverPush('demo', 'hello-ts');
    await waitForRepo(svc, token, repoId, isReadyAt(sha));
    fake.resetStats();
    const again = await fake.redeliver(first);
    expect(again.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(fake.stats().gitFetches).toBe(0);
    expect(await countRows(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE request_uuid = $1`, [first.requestUuid])).toBe(1);
  });

  it('20 pushes within a second end at the newest commit with far fewer than 20 fetches', async () => {
    fake.resetStats();
    let last = '';
    for (let i = 0; i < 20; i++) {
      last = await fake.commit('demo', 'hello-ts', { 'src/burst.ts': `export const n = ${i};\n` });
      void fake.deliverPush('demo', 'hello-ts');
    }
    await waitForRepo(svc, token, repoId, isReadyAt(last));
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.stats().gitFetches).toBeLessThanOrEqual(5);
  });

  it('ignores other events and pushes to other branches', async () => {
    const secret = fake.hooksOf('demo', 'hello-ts').find((h) => h.url.endsWith(accountId))!.secret!;
    const body = JSON.stringify({ repository: { full_name: 'demo/hello-ts' } });
    const event = await fetch(`${svc.url}/v1/webhooks/bitbucket/${accountId}`, {
      method: 'POST',
      headers: { 'x-event-key': 'repo:updated', 'x-request-uuid': crypto.randomUUID(), 'x-hub-signature': `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}` },
      body,
    });
    expect(event.status).toBe(202);
    expect(((await event.json()) as any).outcome).toBe('ignored');
    await fake.commit('demo', 'hello-ts', { 'x.txt': 'feature\n' }, { branch: 'feature' });
    const before = await getRepo(svc, token, repoId);
    const [push] = await fake.deliverPush('demo', 'hello-ts', { branch: 'feature' });
    expect(push.status).toBe(202);
    expect(await countRows(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE request_uuid = $1 AND outcome = 'other_branch'`, [push.requestUuid])).toBe(1);
    expect((await getRepo(svc, token, repoId)).lastIndexedCommit).toBe(before.lastIndexedCommit);
  });
});

describe('needs_reauth', () => {
  it('a revoked grant fails a re-index with needs_reauth, and reconnecting brings the repo back by itself', async () => {
    const { token } = await connectedAccount();
    const res = await addBitbucket(token, DEMO.repos.worker);
    const id = res.body.repo.id;
    await waitForRepo(svc, token, id, isReadyAt());
    fake.revokeGrants(DEMO.user);
    const sha = await fake.commit('acme', 'worker-py', { 'app.py': 'def main():\n    return 1\n' });
    expect((await svc.request('POST', `/v1/repos/${id}/reindex`, { token })).status).toBe(202);
    const { repo: failed } = await waitForRepo(svc, token, id, (r) => r.status === 'failed');
    expect(failed.error.code).toBe('needs_reauth');
    expect((await svc.request('GET', '/v1/integrations/bitbucket', { token })).body.needsReauth).toBe(true);

    expect((await connect(svc, token)).location).toContain('bitbucket=connected');
    await waitForRepo(svc, token, id, isReadyAt(sha));
  });
});

describe('paste a URL', () => {
  it('refuses malicious URLs with url_not_allowed', async () => {
    const { token } = await createAccount(svc);
    for (const url of ['file:///etc/passwd', 'ext::sh -c touch% /tmp/pwned', 'ssh://git@host/x.git', '--upload-pack=touch /tmp/x', 'git@github.com:a/b.git']) {
      const res = await svc.request('POST', '/v1/repos', { token, body: { url } });
      expect([res.status, res.body.error?.code]).toEqual([400, 'url_not_allowed']);
    }
  });

  it('adds a public repo by URL and indexes it', async () => {
    const { token } = await createAccount(svc);
    const res = await svc.request('POST', '/v1/repos', { token, body: { url: `${fake.siteUrl}/oss-lab/go-tools.git` } });
    expect(res.status).toBe(202);
    expect(res.body.repo).toMatchObject({ source: 'url', isPrivate: false, status: 'pending' });
    await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf('oss-lab', 'go-tools')));
    const again = await svc.request('POST', '/v1/repos', { token, body: { url: `${fake.siteUrl}/oss-lab/go-tools` } });
    expect([again.status, again.body.repo.id]).toEqual([200, res.body.repo.id]);
  });

  it('adds a private repo with credentials; they appear in no response, row or history', async () => {
    const { token } = await createAccount(svc);
    const secret = fake.issueTokens(DEMO.user).access_token;
    const host = new URL(fake.siteUrl).host;
    const res = await svc.request('POST', '/v1/repos', { token, body: { url: `http://x-token-auth:${secret}@${host}/acme/api.git` } });
    expect(res.status).toBe(202);
    expect(JSON.stringify(res.body)).not.toContain(secret);
    const { repo } = await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf('acme', 'api')));
    expect(repo.isPrivate).toBe(true);
    expect(JSON.stringify(repo)).not.toContain(secret);
    expect(JSON.stringify((await svc.request('GET', '/v1/repos', { token })).body)).not.toContain(secret);
    expect(findLeaks(await dumpDatabase(), [secret])).toEqual([]);
    expect(findLeaks((await dumpHistories(`WorkflowId = 'repo:${repo.id}'`)).text, [secret])).toEqual([]);
  });

  it('switches a disconnected private Bitbucket repo to a credential URL with PATCH, and it re-indexes', async () => {
    const { token } = await connectedAccount();
    const res = await addBitbucket(token, DEMO.repos.api);
    const id = res.body.repo.id;
    await waitForRepo(svc, token, id, isReadyAt());
    expect((await svc.request('DELETE', '/v1/integrations/bitbucket', { token })).status).toBe(204);
    const sha = await fake.commit('acme', 'api', { 'src/after-disconnect.ts': 'export const x = 1;\n' });
    const secret = fake.issueTokens(DEMO.user).access_token;
    const host = new URL(fake.siteUrl).host;
    const patched = await svc.request('PATCH', `/v1/repos/${id}`, { token, body: { url: `http://x-token-auth:${secret}@${host}/acme/api.git` } });
    expect(patched.status).toBe(200);
    expect(patched.body.repo.source).toBe('url');
    expect(JSON.stringify(patched.body)).not.toContain(secret);
    await waitForRepo(svc, token, id, isReadyAt(sha));
  });
});

describe('tenancy and deletion', () => {
  it("another account's token sees 404 on every route of a repo it does not own", async () => {
    const { token } = await connectedAccount();
    const res = await addBitbucket(token, DEMO.repos.hello);
    const id = res.body.repo.id;
    const other = await createAccount(svc);
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/v1/repos/${id}`],
      ['PATCH', `/v1/repos/${id}`, { url: 'https://example.com/a.git' }],
      ['POST', `/v1/repos/${id}/reindex`],
      ['DELETE', `/v1/repos/${id}`],
      ['GET', `/v1/repos/${id}/tree?path=`],
      ['GET', `/v1/repos/${id}/file?path=README.md`],
      ['GET', `/v1/repos/${id}/search?q=hello`],
      ['GET', `/v1/repos/${id}/symbols?q=g`],
    ];
    for (const [method, route, body] of routes) {
      const r = await svc.request(method, route, { token: other.token, body });
      expect([method, route, r.status, r.body?.error?.code]).toEqual([method, route, 404, 'not_found']);
    }
    expect((await svc.request('GET', '/v1/repos', { token: other.token })).body.repos).toEqual([]);
  });

  it('deleting removes the repo, its webhook and its clone', async () => {
    const { token, accountId } = await connectedAccount();
    const res = await addBitbucket(token, DEMO.repos.worker);
    const id = res.body.repo.id;
    await waitForRepo(svc, token, id, isReadyAt());
    const ours = () => fake.hooksOf('acme', 'worker-py').filter((h) => h.url.endsWith(`/v1/webhooks/bitbucket/${accountId}`));
    expect(ours()).toHaveLength(1);
    expect((await svc.request('DELETE', `/v1/repos/${id}`, { token })).status).toBe(204);
    expect((await svc.request('GET', `/v1/repos/${id}`, { token })).status).toBe(404);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await countRows(`SELECT count(*)::int AS n FROM repos WHERE id = $1`, [id])) > 0) await new Promise((r) => setTimeout(r, 200));
    expect(await countRows(`SELECT count(*)::int AS n FROM repos WHERE id = $1`, [id])).toBe(0);
    expect(ours()).toHaveLength(0);
  });
});

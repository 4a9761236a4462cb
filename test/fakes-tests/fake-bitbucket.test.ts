// Behaviour of the fake Bitbucket Cloud (test/fakes/bitbucket) over real HTTP and real git.
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signature } from '../fakes/bitbucket/delivery';
import { DEMO, seedDemo, seedMany } from '../fakes/bitbucket/seed';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { api, authorize, basic, connect, runGit, startReceiver, tokenHeader, tokenRequest } from './helpers';

jest.setTimeout(30_000);

const CALLBACK = 'http://127.0.0.1:9/v1/integrations/bitbucket/callback';

let fake: FakeBitbucket;
let tmp: string;

beforeAll(async () => {
  fake = await startFakeBitbucket({ callbackUrl: CALLBACK, authorizeMode: 'auto-approve' });
  await seedDemo(fake);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fake-bb-test-'));
});

afterAll(async () => {
  await fake.close();
  rmSync(tmp, { recursive: true, force: true });
});

afterEach(() => {
  fake.clearFaults();
  fake.setAuthorizeMode('auto-approve');
});

type Json = Record<string, unknown>;
const errMessage = (b: unknown) => ((b as { error: { message: string } }).error.message);

describe('OAuth consumer flow', () => {
  test('auto-approve redirects to the callback with a code and the state; the code exchanges once', async () => {
    const cb = await authorize(fake, 'xyz');
    expect(`${cb.origin}${cb.pathname}`).toBe(CALLBACK);
    expect(cb.searchParams.get('state')).toBe('xyz');
    const code = cb.searchParams.get('code') ?? '';
    expect(code).not.toBe('');

    const before = fake.stats().tokenExchanges;
    const res = await tokenRequest(fake, { grant_type: 'authorization_code', code });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'state', 'token_type']);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 7200, state: 'authorization_code', scope: 'account team project repository:write webhook' });
    expect(fake.stats().tokenExchanges).toBe(before + 1);

    const again = await tokenRequest(fake, { grant_type: 'authorization_code', code });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    const unknown = await tokenRequest(fake, { grant_type: 'authorization_code', code: 'nope' });
    expect(unknown.status).toBe(400);
  });

  test('auto-deny redirects with error=access_denied and the state', async () => {
    fake.setAuthorizeMode('auto-deny');
    const cb = await authorize(fake, 's-deny');
    expect(cb.searchParams.get('error')).toBe('access_denied');
    expect(cb.searchParams.get('error_description')).toBeTruthy();
    expect(cb.searchParams.get('state')).toBe('s-deny');
    expect(cb.searchParams.has('code')).toBe(false);
  });

  test('the consent page posts Approve/Deny back and then redirects', async () => {
    fake.setAuthorizeMode('consent-page');
    const page = await fetch(fake.authorizeUrl('s-page'), { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('name="decision" value="approve"');
    expect(html).toContain('name="decision" value="deny"');
    const form = new URLSearchParams({ client_id: fake.clientId, response_type: 'code', state: 's-page', user: 'demo' });
    form.set('decision', 'approve');
    const approve = await fetch(`${fake.siteUrl}/site/oauth2/authorize`, { method: 'POST', body: form, redirect: 'manual' });
    expect(approve.status).toBe(302);
    const cb = new URL(approve.headers.get('location') ?? '');
    expect(cb.searchParams.get('code')).toBeTruthy();
    expect(cb.searchParams.get('state')).toBe('s-page');
    form.set('decision', 'deny');
    const deny = await fetch(`${fake.siteUrl}/site/oauth2/authorize`, { method: 'POST', body: form, redirect: 'manual' });
    expect(new URL(deny.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });

  test('authorize rejects an unknown client_id and a redirect_uri outside the callback', async () => {
    const bad = await fetch(`${fake.siteUrl}/site/oauth2/authorize?client_id=other&response_type=code`, { redirect: 'manual' });
    expect(bad.status).toBe(400);
    const u = new URL(fake.authorizeUrl('s'));
    u.searchParams.set('redirect_uri', 'http://evil.test/cb');
    const evil = await fetch(u, { redirect: 'manual' });
    expect(evil.status).toBe(400);
    expect(await evil.text()).toContain('Invalid redirect_uri');
    u.searchParams.set('redirect_uri', `${CALLBACK}/more`);
    const ok = await fetch(u, { redirect: 'manual' });
    expect(ok.status).toBe(302);
    expect(ok.headers.get('location')).toMatch(new RegExp(`^${CALLBACK}/more\\?code=`));
  });

  test('the token endpoint requires HTTP Basic client credentials', async () => {
    const code = (await authorize(fake)).searchParams.get('code') ?? '';
    const none = await tokenRequest(fake, { grant_type: 'authorization_code', code }, null);
    expect(none.status).toBe(400);
    expect(await none.json()).toEqual({ error: 'unauthorized_client', error_description: 'Requests must be authenticated using OAuth client credentials' });
    const wrong = await tokenRequest(fake, { grant_type: 'authorization_code', code }, basic(fake.clientId, 'wrong'));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ error: 'unauthorized_client', error_description: 'Invalid OAuth client credentials' });
    // The code survived the rejected attempts.
    expect((await tokenRequest(fake, { grant_type: 'authorization_code', code })).status).toBe(200);
    const grant = await tokenRequest(fake, { grant_type: 'password' });
    expect(await grant.json()).toEqual({ error: 'invalid_grant', error_description: 'Unsupported grant type: password' });
  });

  test('refresh tokens rotate: the old one dies at once, the new one works', async () => {
    const first = await connect(fake);
    const stats0 = fake.stats();
    const r1 = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    expect(r1.status).toBe(200);
    const second = (await r1.json()) as Json;
    expect(second.state).toBe('refresh_token');
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);

    const reuse = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toEqual({ error: 'invalid_request', error_description: 'Invalid refresh_token' });

    const r2 = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: String(second.refresh_token) });
    expect(r2.status).toBe(200);
    const stats1 = fake.stats();
    expect(stats1.refreshes - stats0.refreshes).toBe(2);
    expect(stats1.refreshFailures - stats0.refreshFailures).toBe(1);
    expect((await api(fake, '/user', String(second.access_token))).status).toBe(200);
  });

  test('revokeGrants kills the refresh and access tokens of that user only', async () => {
    fake.addUser({ nickname: 'revokee' });
    fake.setCurrentUser('revokee');
    const t = await connect(fake);
    fake.setCurrentUser('demo');
    const demoTokens = await connect(fake);
    expect((await api(fake, '/user', t.access_token)).status).toBe(200);
    fake.revokeGrants('revokee');
    const r = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: t.refresh_token! });
    expect(r.status).toBe(400);
    expect(((await r.json()) as Json).error).toBe('invalid_request');
    const me = await api(fake, '/user', t.access_token);
    expect(me.status).toBe(401);
    expect(me.body).toMatchObject({ type: 'error', error: { message: expect.any(String) } });
    expect((await api(fake, '/user', demoTokens.access_token)).status).toBe(200);
  });

  test('expired access tokens answer 401 "Access token expired." and refresh still works', async () => {
    const short = await startFakeBitbucket({ callbackUrl: CALLBACK, authorizeMode: 'auto-approve', accessTokenTtlSeconds: 1, legacyScopesKey: true });
    try {
      short.addUser({ nickname: 'u' });
      const t = await connect(short);
      expect(t.expires_in).toBe(1);
      expect(t.scopes).toBe('account team project repository:write webhook');
      expect(t.scope).toBeUndefined();
      expect((await api(short, '/user', t.access_token)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));
      const expired = await api(short, '/user', t.access_token);
      expect(expired.status).toBe(401);
      expect(expired.body).toEqual({ type: 'error', error: { message: 'Access token expired.' } });
      const refreshed = (await (await tokenRequest(short, { grant_type: 'refresh_token', refresh_token: t.refresh_token! })).json()) as Json;
      expect((await api(short, '/user', String(refreshed.access_token))).status).toBe(200);
      short.expireAccessTokens();
      expect(errMessage((await api(short, '/user', String(refreshed.access_token))).body)).toBe('Access token expired.');
    } finally {
      await short.close();
    }
  });

  test('REST is Bearer-only: no token, a bogus token or ?access_token= get 401 JSON errors', async () => {
    const t = fake.issueTokens('demo');
    const none = await api(fake, '/user', null);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toMatch(/application\/json/);
    expect((await api(fake, '/user', 'bogus')).status).toBe(401);
    const query = await api(fake, `/user?access_token=${t.access_token}`, null);
    expect(query.status).toBe(401);
    expect(errMessage(query.body)).toMatch(/Authorization header/);
  });
});

describe('REST listing', () => {
  let token: string;
  beforeAll(() => {
    token = fake.issueTokens('demo').access_token;
  });

  test('/2.0/user and /2.0/user/workspaces describe the demo user', async () => {
    const me = await api(fake, '/user', token);
    expect(me.body).toMatchObject({ type: 'user', nickname: 'demo', display_name: 'Demo User', uuid: expect.stringMatching(/^\{[0-9a-f-]{36}\}$/) });
    const ws = await api(fake, '/user/workspaces', token);
    expect(ws.status).toBe(200);
    const values = (ws.body as { values: Array<{ type: string; administrator: boolean; workspace: Json }> }).values;
    expect(values.map((v) => [v.workspace.slug, v.administrator]).sort()).toEqual([['acme', false], ['demo', true], ['oss-lab', false]]);
    expect(values[0]).toMatchObject({ type: 'workspace_access', workspace: { type: 'workspace_base' } });
    expect(values[0].workspace).not.toHaveProperty('name');
    const admins = await api(fake, '/user/workspaces?administrator=true', token);
    expect((admins.body as { values: unknown[] }).values).toHaveLength(1);
  });

  test('role filters: contributor = write or admin, member = read or more, admin = admin', async () => {
    const slugs = async (q: string) => ((await api(fake, `/repositories/acme${q}`, token)).body as { values: Json[] }).values.map((r) => r.slug).sort();
    expect(await slugs('?role=contributor')).toEqual(['api', 'frontend', 'worker-py']);
    expect(await slugs('?role=member')).toEqual(['api', 'frontend', 'infra', 'worker-py']);
    expect(await slugs('?role=admin')).toEqual(['api', 'worker-py']);
    expect(await slugs('')).toEqual(['api', 'frontend', 'infra', 'worker-py']);
    expect(await slugs('?q=slug%20~%20%22work%22')).toEqual(['worker-py']);
    const bad = await api(fake, '/repositories/acme?role=boss', token);
    expect(bad.status).toBe(400);
  });

  test('pagination over more than 100 repos: opaque absolute next links, followed to the end', async () => {
    const names = await seedMany(fake, { count: 120, workspaces: 1, user: 'bulkuser', prefix: 'bulk' });
    const bulkToken = fake.issueTokens('bulkuser').access_token;
    for (const pagelen of [undefined, 50, 100]) {
      const seen: string[] = [];
      let next: string | undefined = `/repositories/bulk-1${pagelen ? `?pagelen=${pagelen}` : ''}`;
      let pages = 0;
      while (next) {
        const res = await api(fake, next, bulkToken);
        expect(res.status).toBe(200);
        const body = res.body as { values: Json[]; next?: string; pagelen: number; size: number; page: number };
        pages++;
        expect(body.pagelen).toBe(pagelen ?? 10);
        expect(body.size).toBe(120);
        expect(body.page).toBe(pages);
        seen.push(...body.values.map((v) => String(v.full_name)));
        if (body.next) {
          const u = new URL(body.next);
          expect(`${u.origin}/2.0`).toBe(fake.apiUrl);
          expect(u.searchParams.get('page')).not.toMatch(/^\d+$/);
        }
        next = body.next;
      }
      expect(pages).toBe(Math.ceil(120 / (pagelen ?? 10)));
      expect(seen.sort()).toEqual(names);
    }
    const tooBig = await api(fake, '/repositories/bulk-1?pagelen=101', bulkToken);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body).toMatchObject({ type: 'error', error: { message: 'Invalid pagelen' } });
  });

  test('repository objects and 404s', async () => {
    const r = await api(fake, '/repositories/acme/api', token);
    expect(r.status).toBe(200);
    const repo = r.body as Json & { links: { clone: Array<{ name: string; href: string }> } };
    expect(repo).toMatchObject({
      type: 'repository', slug: 'api', full_name: 'acme/api', is_private: true, scm: 'git',
      mainbranch: { name: 'main', type: 'branch' }, workspace: { slug: 'acme', type: 'workspace', name: 'Acme Corp' },
    });
    const site = new URL(fake.siteUrl);
    expect(repo.links.clone).toEqual([
      { name: 'https', href: `http://demo@${site.host}/acme/api.git` },
      { name: 'ssh', href: `git@${site.hostname}:acme/api.git` },
    ]);
    const byUuid = await api(fake, `/repositories/acme/${encodeURIComponent(String(repo.uuid))}`, token);
    expect((byUuid.body as Json).full_name).toBe('acme/api');

    const unknownWs = await api(fake, '/repositories/no-such-ws', token);
    expect(unknownWs.status).toBe(404);
    expect(unknownWs.body).toMatchObject({ type: 'error', error: { message: expect.any(String) } });
    expect((await api(fake, '/repositories/acme/nope', token)).status).toBe(404);
    // A private repo the user has no access to is invisible.
    await fake.addRepo({ workspace: 'acme', slug: 'secret', owner: 'alice' });
    expect((await api(fake, '/repositories/acme/secret', token)).status).toBe(404);
    expect((await api(fake, '/no/such/route', token)).status).toBe(404);
  });

  test('removed cross-workspace endpoints answer 410 CHANGE-2770', async () => {
    for (const p of ['/workspaces', '/repositories', '/repositories?role=member', '/user/permissions/repositories', '/user/permissions/workspaces']) {
      const res = await api(fake, p, token);
      expect(res.status).toBe(410);
      expect(res.body).toMatchObject({
        type: 'error',
        error: {
          message: 'CHANGE-2770 - Functionality has been deprecated',
          detail: 'Please read the changelog entry for more details.',
          data: { announcement_url: 'https://developer.atlassian.com/cloud/bitbucket/changelog#CHANGE-2770' },
        },
      });
    }
  });
});

describe('webhooks (REST)', () => {
  let token: string;
  beforeAll(() => {
    token = fake.issueTokens('demo').access_token;
  });

  test('CRUD for a repo admin; secret never returned', async () => {
    const created = await api(fake, '/repositories/acme/worker-py/hooks', token, {
      method: 'POST', body: { description: 'Lettuce', url: 'http://127.0.0.1:9/hook', active: true, events: ['repo:push'], secret: 's3cret' },
    });
    expect(created.status).toBe(201);
    const hook = created.body as Json;
    expect(hook).toMatchObject({ type: 'webhook_subscription', url: 'http://127.0.0.1:9/hook', events: ['repo:push'], active: true, secret_set: true, subject_type: 'repository' });
    expect(hook).not.toHaveProperty('secret');
    const uid = String(hook.uuid);
    expect(uid).toMatch(/^\{[0-9a-f-]{36}\}$/);
    expect(created.headers.get('location')).toBe(`${fake.apiUrl}/repositories/acme/worker-py/hooks/${encodeURIComponent(uid)}`);
    expect(fake.hooksOf('acme', 'worker-py')).toEqual([expect.objectContaining({ uuid: uid, secret: 's3cret' })]);

    const list = await api(fake, '/repositories/acme/worker-py/hooks', token);
    expect((list.body as { values: Json[] }).values.map((h) => h.uuid)).toEqual([uid]);
    const one = await api(fake, `/repositories/acme/worker-py/hooks/${encodeURIComponent(uid)}`, token);
    expect((one.body as Json).uuid).toBe(uid);

    const updated = await api(fake, `/repositories/acme/worker-py/hooks/${encodeURIComponent(uid)}`, token, {
      method: 'PUT', body: { url: 'http://127.0.0.1:9/other', secret: null },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ url: 'http://127.0.0.1:9/other', secret_set: false, events: ['repo:push'] });

    const del = await api(fake, `/repositories/acme/worker-py/hooks/${encodeURIComponent(uid)}`, token, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await api(fake, `/repositories/acme/worker-py/hooks/${encodeURIComponent(uid)}`, token)).status).toBe(404);
  });

  test('non-admins get 403; bad bodies get 400', async () => {
    for (const repo of [DEMO.repos.contributorOnly, DEMO.repos.readOnly]) {
      const res = await api(fake, `/repositories/${repo}/hooks`, token, { method: 'POST', body: { url: 'http://127.0.0.1:9/h', events: ['repo:push'] } });
      expect(res.status).toBe(403);
      expect(errMessage(res.body)).toMatch(/permission/);
      expect((await api(fake, `/repositories/${repo}/hooks`, token)).status).toBe(403);
    }
    const noEvents = await api(fake, '/repositories/acme/api/hooks', token, { method: 'POST', body: { url: 'http://127.0.0.1:9/h', events: [] } });
    expect(noEvents.status).toBe(400);
    const badUrl = await api(fake, '/repositories/acme/api/hooks', token, { method: 'POST', body: { url: 'not a url', events: ['repo:push'] } });
    expect(badUrl.status).toBe(400);
    expect(fake.hooksOf('acme', 'api')).toHaveLength(0);
  });
});

describe('fault injection', () => {
  test('429 is text/plain without Retry-After, then the endpoint recovers', async () => {
    const token = fake.issueTokens('demo').access_token;
    fake.injectFault({ path: '/2.0/user/workspaces', status: 429, times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await api(fake, '/user/workspaces', token);
      expect(r.status).toBe(429);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(r.headers.get('retry-after')).toBeNull();
      expect(r.text).toBe('Rate limit for this resource has been exceeded');
    }
    expect((await api(fake, '/user/workspaces', token)).status).toBe(200);
  });

  test('5xx on the token endpoint, regex paths, and hanging requests', async () => {
    fake.injectFault({ method: 'POST', path: '/site/oauth2/access_token', status: 503 });
    const r = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: 'x' });
    expect(r.status).toBe(503);
    const token = fake.issueTokens('demo').access_token;
    fake.injectFault({ path: /^\/2\.0\/repositories\/acme\//, status: 500, times: Infinity });
    expect((await api(fake, '/repositories/acme/api', token)).status).toBe(500);
    expect((await api(fake, '/repositories/acme/api', token)).status).toBe(500);
    fake.clearFaults();
    expect((await api(fake, '/repositories/acme/api', token)).status).toBe(200);

    fake.injectFault({ path: '/2.0/user', hang: true });
    await expect(fetch(`${fake.apiUrl}/user`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(300) }))
      .rejects.toThrow();
    expect((await api(fake, '/user', token)).status).toBe(200);
  });
});

describe('git over HTTP', () => {
  test('clones a private repo with x-token-auth, refuses without it, fetches new commits', async () => {
    const token = fake.issueTokens('demo').access_token;
    const url = `${fake.siteUrl}/acme/api.git`;
    const dest = path.join(tmp, 'api');
    const before = fake.stats();
    const ok = await runGit(['-c', tokenHeader(token), 'clone', '--quiet', '--depth', '1', url, dest]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(readFileSync(path.join(dest, 'tools/migrate.py'), 'utf8')).toContain('class Migration');
    const head = (await runGit(['rev-parse', 'HEAD'], dest)).stdout.trim();
    expect(head).toBe(await fake.headOf('acme', 'api'));
    expect(fake.stats().gitFetches - before.gitFetches).toBe(1);
    expect(fake.stats().gitUploadPacks).toBeGreaterThan(before.gitUploadPacks);
    expect(fake.stats().requests['GET /{workspace}/{repo_slug}.git/info/refs']).toBeGreaterThan(0);

    const sha = await fake.commit('acme', 'api', { 'src/new.ts': 'export const n = 1;\n', 'README.md': null }, { message: 'Add n' });
    const fetched = await runGit(['-c', tokenHeader(token), 'fetch', '--quiet', '--depth', '1', 'origin', 'main'], dest);
    expect(fetched.code).toBe(0);
    expect((await runGit(['rev-parse', 'FETCH_HEAD'], dest)).stdout.trim()).toBe(sha);
    const tree = (await runGit(['ls-tree', '-r', '--name-only', 'FETCH_HEAD'], dest)).stdout;
    expect(tree).toContain('src/new.ts');
    expect(tree).not.toContain('README.md');

    const anon = await runGit(['clone', '--quiet', url, path.join(tmp, 'api-anon')]);
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toMatch(/Authentication failed|could not read Username|401/);
    const bad = await runGit(['-c', tokenHeader('bogus'), 'clone', '--quiet', url, path.join(tmp, 'api-bad')]);
    expect(bad.code).not.toBe(0);

    // Tokens of a user without access to the repo.
    fake.addUser({ nickname: 'outsider' });
    const outsider = fake.issueTokens('outsider').access_token;
    const denied = await runGit(['-c', tokenHeader(outsider), 'clone', '--quiet', url, path.join(tmp, 'api-outsider')]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/403/);

    const push = await runGit(['-c', tokenHeader(token), 'push', 'origin', 'HEAD:refs/heads/evil'], dest);
    expect(push.code).not.toBe(0);
  });

  test('a public repo clones anonymously; a revoked token stops cloning', async () => {
    const dest = path.join(tmp, 'go-tools');
    const anon = await runGit(['clone', '--quiet', `${fake.siteUrl}/oss-lab/go-tools.git`, dest]);
    expect(anon.code).toBe(0);
    expect(existsSync(path.join(dest, 'cmd/hello/hello.go'))).toBe(true);

    fake.addUser({ nickname: 'leaver' });
    fake.grant('leaver', 'acme/api', 'read');
    const t = fake.issueTokens('leaver').access_token;
    expect((await runGit(['-c', tokenHeader(t), 'ls-remote', `${fake.siteUrl}/acme/api.git`])).code).toBe(0);
    fake.revokeGrants('leaver');
    expect((await runGit(['-c', tokenHeader(t), 'ls-remote', `${fake.siteUrl}/acme/api.git`])).code).not.toBe(0);
  });

  test('a clone wanting many refs (git gzips that request body) gets every branch', async () => {
    await fake.addRepo({ workspace: 'demo', slug: 'branchy', owner: 'demo', files: { 'a.txt': 'a' } });
    for (let i = 0; i < 30; i++) await fake.commit('demo', 'branchy', { [`f${i}.txt`]: String(i) }, { branch: `b${i}` });
    const token = fake.issueTokens('demo').access_token;
    for (const version of ['2', '0']) {
      const dest = path.join(tmp, `branchy-v${version}`);
      const res = await runGit(['-c', `protocol.version=${version}`, '-c', tokenHeader(token), 'clone', '--quiet', `${fake.siteUrl}/demo/branchy.git`, dest]);
      expect(res).toMatchObject({ code: 0, stderr: '' });
      const branches = (await runGit(['branch', '-r'], dest)).stdout.split('\n').filter((l) => /origin\/b\d+$/.test(l.trim()));
      expect(branches).toHaveLength(30);
    }
  });

  test('an empty (lazily created) repo clones, and commit() forces history rewrites', async () => {
    await fake.addRepo({ workspace: 'demo', slug: 'empty', owner: 'demo' });
    const token = fake.issueTokens('demo').access_token;
    const empty = await runGit(['-c', tokenHeader(token), 'clone', '--quiet', `${fake.siteUrl}/demo/empty.git`, path.join(tmp, 'empty')]);
    expect(empty.code).toBe(0);
    const a = await fake.commit('demo', 'empty', { 'a.txt': 'a' });
    const b = await fake.commit('demo', 'empty', { 'b.txt': 'b' });
    const c = await fake.commit('demo', 'empty', { 'c.txt': 'c' }, { force: true });
    expect(await fake.headOf('demo', 'empty')).toBe(c);
    const log = await runGit(['--git-dir', fake.gitDirOf('demo', 'empty'), 'rev-list', 'main']);
    expect(log.stdout.trim().split('\n')).toEqual([c, a]);
    expect(b).not.toBe(c);
    const feature = await fake.commit('demo', 'empty', { 'f.txt': 'f' }, { branch: 'feature' });
    expect(await fake.headOf('demo', 'empty', 'feature')).toBe(feature);
    expect(await fake.headOf('demo', 'empty')).toBe(c);
  });
});

describe('webhook delivery', () => {
  test('signature helper matches the documented test vector', () => {
    expect(signature("It's a Secret to Everybody", 'Hello World!'))
      .toBe('sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9');
  });

  test('deliverPush signs the raw body, retries on 500 with the same X-Request-UUID, and describes the push', async () => {
    const receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
    try {
      const token = fake.issueTokens('demo').access_token;
      const created = await api(fake, '/repositories/demo/hello-ts/hooks', token, {
        method: 'POST', body: { description: 'Lettuce', url: receiver.url, active: true, events: ['repo:push'], secret: 'hook-secret' },
      });
      expect(created.status).toBe(201);
      const old = await fake.headOf('demo', 'hello-ts');
      const sha1 = await fake.commit('demo', 'hello-ts', { 'src/a.ts': 'export const a = 1;\n' }, { message: 'one' });
      const sha2 = await fake.commit('demo', 'hello-ts', { 'src/b.ts': 'export const b = 2;\n' }, { message: 'two' });

      const [d] = await fake.deliverPush('demo', 'hello-ts');
      expect(d).toMatchObject({ status: 200, attempts: 2, url: receiver.url, hookUuid: (created.body as Json).uuid });
      expect(receiver.received).toHaveLength(2);
      const [first, second] = receiver.received;
      for (const r of receiver.received) {
        expect(r.headers['x-event-key']).toBe('repo:push');
        expect(r.headers['user-agent']).toBe('Bitbucket-Webhooks/2.0');
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['x-hook-uuid']).toBe(String((created.body as Json).uuid).replace(/[{}]/g, ''));
        expect(new Date(String(r.headers['x-event-time'])).getTime()).not.toBeNaN();
        const expected = `sha256=${createHmac('sha256', 'hook-secret').update(r.raw).digest('hex')}`;
        expect(r.headers['x-hub-signature']).toBe(expected);
      }
      expect(first.headers['x-attempt-number']).toBe('1');
      expect(second.headers['x-attempt-number']).toBe('2');
      expect(first.headers['x-request-uuid']).toBe(second.headers['x-request-uuid']);
      expect(first.raw.equals(second.raw)).toBe(true);

      const payload = JSON.parse(first.raw.toString('utf8')) as {
        actor: Json; repository: Json & { links: Json }; push: { changes: Array<Json & { old: Json; new: Json; commits: Json[] }> };
      };
      expect(payload.actor).toMatchObject({ type: 'user', nickname: 'demo', display_name: 'Demo User' });
      expect(payload.repository).toMatchObject({ type: 'repository', full_name: 'demo/hello-ts', is_private: true });
      expect(payload.repository).not.toHaveProperty('slug');
      expect(payload.repository.links).not.toHaveProperty('clone');
      const change = payload.push.changes[0];
      expect(change).toMatchObject({ created: false, closed: false, forced: false, truncated: false });
      expect(change.new).toMatchObject({ type: 'branch', name: 'main', target: { type: 'commit', hash: sha2 } });
      expect(change.old).toMatchObject({ type: 'branch', name: 'main', target: { hash: old } });
      expect(change.commits.map((c) => c.hash)).toEqual([sha2, sha1]);
      expect(change.commits[0]).toMatchObject({ message: 'two\n', author: { type: 'author', raw: 'Demo User <demo@example.test>', user: { nickname: 'demo' } } });

      // The next push starts where this one ended; redelivery keeps the request id.
      const again = await fake.redeliver(d);
      expect(again.requestUuid).toBe(d.requestUuid);
      expect(receiver.received[2].headers['x-request-uuid']).toBe(first.headers['x-request-uuid']);
      const sha3 = await fake.commit('demo', 'hello-ts', { 'src/c.ts': 'x\n' }, { force: true });
      await fake.deliverPush('demo', 'hello-ts');
      const forced = JSON.parse(receiver.received[3].raw.toString('utf8')) as typeof payload;
      expect(forced.push.changes[0]).toMatchObject({ forced: true, old: { target: { hash: sha2 } }, new: { target: { hash: sha3 } } });
    } finally {
      await receiver.close();
    }
  });

  test('4xx is not retried; no secret means no signature; inactive hooks get nothing', async () => {
    const receiver = await startReceiver(() => 404);
    try {
      const token = fake.issueTokens('demo').access_token;
      await api(fake, '/repositories/oss-lab/go-tools/hooks', token, { method: 'POST', body: { url: receiver.url, events: ['repo:push'] } });
      await api(fake, '/repositories/oss-lab/go-tools/hooks', token, { method: 'POST', body: { url: receiver.url, events: ['repo:push'], active: false } });
      await api(fake, '/repositories/oss-lab/go-tools/hooks', token, { method: 'POST', body: { url: receiver.url, events: ['repo:updated'] } });
      await fake.commit('oss-lab', 'go-tools', { 'x.go': 'package main\n' });
      const results = await fake.deliverPush('oss-lab', 'go-tools');
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ status: 404, attempts: 1 });
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0].headers).not.toHaveProperty('x-hub-signature');
    } finally {
      await receiver.close();
    }
  });

  test('timeouts and network errors are retried twice', async () => {
    const quick = await startFakeBitbucket({ deliveryTimeoutMs: 200 });
    const receiver = await startReceiver(() => 'hang');
    try {
      quick.addUser({ nickname: 'u' });
      quick.addWorkspace({ slug: 'w', members: [{ nickname: 'u', administrator: true }] });
      await quick.addRepo({ workspace: 'w', slug: 'r', files: { 'a.txt': 'a' } });
      const token = quick.issueTokens('u').access_token;
      await api(quick, '/repositories/w/r/hooks', token, { method: 'POST', body: { url: receiver.url, events: ['repo:push'] } });
      await api(quick, '/repositories/w/r/hooks', token, { method: 'POST', body: { url: 'http://127.0.0.1:1/closed', events: ['repo:push'] } });
      await quick.commit('w', 'r', { 'b.txt': 'b' });
      const results = await quick.deliverPush('w', 'r');
      expect(results.map((r) => [r.status, r.attempts]).sort()).toEqual([['NETWORK ERROR', 3], ['TIMEOUT', 3]]);
      expect(receiver.received.map((r) => r.headers['x-attempt-number'])).toEqual(['1', '2', '3']);
    } finally {
      await receiver.close();
      await quick.close();
    }
  });
});

describe('control API', () => {
  test('commit + deliver, faults, stats, callback URL and revoke over HTTP', async () => {
    const ctl = (p: string, method = 'GET', body?: unknown) => fetch(`${fake.siteUrl}/_fake${p}`, {
      method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const receiver = await startReceiver();
    try {
      const token = fake.issueTokens('demo').access_token;
      await api(fake, '/repositories/acme/api/hooks', token, { method: 'POST', body: { url: receiver.url, events: ['repo:push'], secret: 'k' } });
      const res = await ctl('/commit', 'POST', { workspace: 'acme', slug: 'api', files: { 'z.ts': 'z\n' }, message: 'z', deliver: true });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { sha: string; deliveries: Array<{ status: number }> };
      expect(body.sha).toBe(await fake.headOf('acme', 'api'));
      expect(body.deliveries).toEqual([expect.objectContaining({ status: 200, attempts: 1 })]);
      expect(receiver.received).toHaveLength(1);

      const hooks = (await (await ctl('/hooks?workspace=acme&slug=api')).json()) as { hooks: Array<{ secret: string }> };
      expect(hooks.hooks[0].secret).toBe('k');

      expect((await ctl('/faults', 'POST', { path: '/2.0/user', status: 429 })).status).toBe(201);
      expect((await api(fake, '/user', token)).status).toBe(429);
      expect((await ctl('/faults', 'POST', { pathRegex: '^/2\\.0/user$', status: 502, times: -1 })).status).toBe(201);
      expect((await api(fake, '/user', token)).status).toBe(502);
      expect((await api(fake, '/user', token)).status).toBe(502);
      expect((await ctl('/faults', 'DELETE')).status).toBe(200);
      expect((await api(fake, '/user', token)).status).toBe(200);

      const stats = (await (await ctl('/stats')).json()) as { requests: Record<string, number>; faultsServed: number };
      expect(stats.requests['GET /2.0/user']).toBeGreaterThan(0);
      expect(stats.faultsServed).toBeGreaterThanOrEqual(3);

      expect((await ctl('/callback-url', 'PUT', { url: 'http://127.0.0.1:7/cb' })).status).toBe(200);
      expect((await authorize(fake)).toString()).toMatch(/^http:\/\/127\.0\.0\.1:7\/cb\?code=/);
      fake.setCallbackUrl(CALLBACK);

      expect((await ctl('/revoke', 'POST', { nickname: 'demo' })).status).toBe(200);
      expect((await api(fake, '/user', token)).status).toBe(401);
      expect((await ctl('/commit', 'POST', { workspace: 'acme', slug: 'nope', files: {} })).status).toBe(400);
      expect((await ctl('/nothing')).status).toBe(404);
    } finally {
      await receiver.close();
    }
  });
});

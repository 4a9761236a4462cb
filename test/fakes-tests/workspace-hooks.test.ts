// Workspace webhooks of the fake Bitbucket (`/2.0/workspaces/{workspace}/hooks`, reference §2.7 and
// §5 item 8: workspace owners only, fired for every repository of the workspace) and seedWorkspace,
// the cheap large workspace.
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedWorkspace } from '../fakes/bitbucket/seed';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { api, runGit, startReceiver, tokenHeader } from './helpers';

jest.setTimeout(60_000);

type Json = Record<string, unknown>;
const errMessage = (b: unknown) => ((b as { error: { message: string } }).error.message);
const hmac = (secret: string, raw: Buffer) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
const bare = (uuid: string) => uuid.replace(/[{}]/g, '');

let fake: FakeBitbucket;
let tmp: string;
let owner: string;
let member: string;
let outsider: string;

beforeAll(async () => {
  fake = await startFakeBitbucket({ restLimit: null });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fake-bb-wshooks-'));
  for (const nickname of ['olga', 'max', 'nora']) fake.addUser({ nickname, display_name: nickname.toUpperCase() });
  // olga owns "team"; max is a plain member with admin on one repo; nora belongs to "elsewhere" only.
  fake.addWorkspace({ slug: 'team', name: 'Team', members: [{ nickname: 'olga', administrator: true }, 'max'] });
  fake.addWorkspace({ slug: 'elsewhere', members: [{ nickname: 'nora', administrator: true }] });
  await fake.addRepo({ workspace: 'team', slug: 'alpha', owner: 'olga', files: { 'a.txt': 'a\n' } });
  await fake.addRepo({ workspace: 'team', slug: 'beta', owner: 'olga', files: { 'b.txt': 'b\n' } });
  await fake.addRepo({ workspace: 'elsewhere', slug: 'gamma', owner: 'nora', files: { 'g.txt': 'g\n' } });
  fake.grant('max', 'team/beta', 'admin');
  owner = fake.issueTokens('olga').access_token;
  member = fake.issueTokens('max').access_token;
  outsider = fake.issueTokens('nora').access_token;
});

afterAll(async () => {
  await fake.close();
  rmSync(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  fake.setRestLimit(null);
  // Every test starts without workspace hooks.
  for (const ws of ['team', 'elsewhere']) {
    const t = ws === 'team' ? owner : outsider;
    for (const h of fake.workspaceHooksOf(ws)) await api(fake, `/workspaces/${ws}/hooks/${encodeURIComponent(h.uuid)}`, t, { method: 'DELETE' });
  }
});

describe('workspace hooks over REST', () => {
  test('the owner creates, lists, reads, updates and deletes a workspace hook', async () => {
    const created = await api(fake, '/workspaces/team/hooks', owner, {
      method: 'POST', body: { description: 'Lettuce', url: 'http://127.0.0.1:9/hook', active: true, events: ['repo:push'], secret: 's3cret' },
    });
    expect(created.status).toBe(201);
    const hook = created.body as Json;
    expect(hook).toMatchObject({
      type: 'webhook_subscription', url: 'http://127.0.0.1:9/hook', description: 'Lettuce', events: ['repo:push'], active: true,
      secret_set: true, subject_type: 'workspace', subject: { type: 'workspace', slug: 'team', name: 'Team' },
    });
    expect(hook).not.toHaveProperty('secret');
    const uid = String(hook.uuid);
    expect(uid).toMatch(/^\{[0-9a-f-]{36}\}$/);
    expect(created.headers.get('location')).toBe(`${fake.apiUrl}/workspaces/team/hooks/${encodeURIComponent(uid)}`);
    expect((hook.links as Json).self).toEqual({ href: `${fake.apiUrl}/workspaces/team/hooks/${encodeURIComponent(uid)}` });

    // Stored with its secret, as a workspace hook, not a hook of any repo.
    expect(fake.workspaceHooksOf('team')).toEqual([expect.objectContaining({ uuid: uid, repo: null, workspace: 'team', secret: 's3cret', creator: 'olga' })]);
    expect(fake.hooksOf('team', 'alpha')).toEqual([]);
    expect(fake.workspaceHooksOf('elsewhere')).toEqual([]);

    const list = await api(fake, '/workspaces/team/hooks', owner);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ size: 1, page: 1, pagelen: 10, values: [{ uuid: uid, subject_type: 'workspace' }] });
    expect(JSON.stringify(list.body)).not.toContain('s3cret');

    // The uid with or without braces; the workspace by slug or {uuid}.
    const wsUuid = String((hook.subject as Json).uuid);
    for (const p of [`/workspaces/team/hooks/${encodeURIComponent(uid)}`, `/workspaces/team/hooks/${bare(uid)}`,
      `/workspaces/${encodeURIComponent(wsUuid)}/hooks/${encodeURIComponent(uid)}`]) {
      const one = await api(fake, p, owner);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ uuid: uid, secret_set: true });
    }

    const updated = await api(fake, `/workspaces/team/hooks/${encodeURIComponent(uid)}`, owner, {
      method: 'PUT', body: { url: 'http://127.0.0.1:9/other', events: ['repo:push', 'repo:updated'], secret: null, active: false },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ uuid: uid, url: 'http://127.0.0.1:9/other', events: ['repo:push', 'repo:updated'], active: false, secret_set: false });
    expect(fake.workspaceHooksOf('team')[0]).toMatchObject({ secret: null, active: false });
    // Omitting the secret keeps it; the same field checks as repo hooks.
    await api(fake, `/workspaces/team/hooks/${encodeURIComponent(uid)}`, owner, { method: 'PUT', body: { secret: 'again' } });
    expect((await api(fake, `/workspaces/team/hooks/${encodeURIComponent(uid)}`, owner, { method: 'PUT', body: { description: 'd' } })).body)
      .toMatchObject({ secret_set: true, description: 'd' });
    const bad = await api(fake, `/workspaces/team/hooks/${encodeURIComponent(uid)}`, owner, { method: 'PUT', body: { events: [] } });
    expect(bad.status).toBe(400);
    for (const body of [{ url: 'not a url', events: ['repo:push'] }, { url: 'http://127.0.0.1:9/h', events: ['repo:nope'] }, { url: 'http://127.0.0.1:9/h' }]) {
      expect((await api(fake, '/workspaces/team/hooks', owner, { method: 'POST', body })).status).toBe(400);
    }
    expect(fake.workspaceHooksOf('team')).toHaveLength(1);

    const del = await api(fake, `/workspaces/team/hooks/${encodeURIComponent(uid)}`, owner, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await api(fake, `/workspaces/team/hooks/${encodeURIComponent(uid)}`, owner)).status).toBe(404);
    expect(fake.workspaceHooksOf('team')).toEqual([]);
    expect((await api(fake, '/workspaces/team/hooks', owner)).body).toMatchObject({ size: 0, values: [] });
  });

  test('repo hooks and workspace hooks are separate resources', async () => {
    const wsHook = (await api(fake, '/workspaces/team/hooks', owner, { method: 'POST', body: { url: 'http://127.0.0.1:9/w', events: ['repo:push'] } })).body as Json;
    const repoHook = (await api(fake, '/repositories/team/alpha/hooks', owner, { method: 'POST', body: { url: 'http://127.0.0.1:9/r', events: ['repo:push'] } })).body as Json;
    try {
      expect(repoHook.subject_type).toBe('repository');
      expect((await api(fake, `/workspaces/team/hooks/${encodeURIComponent(String(repoHook.uuid))}`, owner)).status).toBe(404);
      expect((await api(fake, `/repositories/team/alpha/hooks/${encodeURIComponent(String(wsHook.uuid))}`, owner)).status).toBe(404);
      expect(((await api(fake, '/repositories/team/alpha/hooks', owner)).body as { values: Json[] }).values.map((h) => h.uuid)).toEqual([repoHook.uuid]);
      expect(((await api(fake, '/workspaces/team/hooks', owner)).body as { values: Json[] }).values.map((h) => h.uuid)).toEqual([wsHook.uuid]);
      // A workspace hook of another workspace is not found through this one.
      const other = (await api(fake, '/workspaces/elsewhere/hooks', outsider, { method: 'POST', body: { url: 'http://127.0.0.1:9/e', events: ['repo:push'] } })).body as Json;
      expect((await api(fake, `/workspaces/team/hooks/${encodeURIComponent(String(other.uuid))}`, owner)).status).toBe(404);
      // Deleting a repo keeps the workspace's hooks.
      await fake.addRepo({ workspace: 'team', slug: 'doomed' });
      await fake.removeRepo('team/doomed');
      expect(fake.workspaceHooksOf('team')).toHaveLength(1);
    } finally {
      await api(fake, `/repositories/team/alpha/hooks/${encodeURIComponent(String(repoHook.uuid))}`, owner, { method: 'DELETE' });
    }
  });

  test('a member who is not an owner gets 403 and creates nothing; a non-member 404; the webhook scope is required', async () => {
    const existing = (await api(fake, '/workspaces/team/hooks', owner, { method: 'POST', body: { url: 'http://127.0.0.1:9/w', events: ['repo:push'] } })).body as Json;
    const uid = encodeURIComponent(String(existing.uuid));
    // max administers team/beta (repo hooks are fine there) but is no workspace owner.
    expect((await api(fake, '/repositories/team/beta/hooks', member)).status).toBe(200);
    const denied = await api(fake, '/workspaces/team/hooks', member, { method: 'POST', body: { url: 'http://127.0.0.1:9/m', events: ['repo:push'] } });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ type: 'error', error: { message: expect.stringMatching(/permission to install webhooks on this workspace/) } });
    for (const [method, p, body] of [['GET', '/workspaces/team/hooks'], ['GET', `/workspaces/team/hooks/${uid}`],
      ['PUT', `/workspaces/team/hooks/${uid}`, { active: false }], ['DELETE', `/workspaces/team/hooks/${uid}`]] as const) {
      const res = await api(fake, p, member, { method, body });
      expect(res.status).toBe(403);
      expect(errMessage(res.body)).toMatch(/workspace owner/);
    }
    expect(fake.workspaceHooksOf('team')).toEqual([expect.objectContaining({ uuid: existing.uuid, active: true })]);

    // Not a member: the workspace does not exist for nora (nor does an unknown one for anyone).
    for (const [method, p] of [['GET', '/workspaces/team/hooks'], ['POST', '/workspaces/team/hooks'], ['GET', `/workspaces/team/hooks/${uid}`],
      ['DELETE', `/workspaces/team/hooks/${uid}`], ['GET', '/workspaces/nowhere/hooks']] as const) {
      const res = await api(fake, p, outsider, { method, body: method === 'POST' ? { url: 'http://127.0.0.1:9/n', events: ['repo:push'] } : undefined });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ type: 'error', error: { message: expect.any(String) } });
    }
    expect(fake.workspaceHooksOf('team')).toHaveLength(1);
    expect((await api(fake, '/workspaces/team/hooks', null)).status).toBe(401);

    // Without the webhook scope: the same 403 as for repo hooks.
    const before = fake.consumer().scopes;
    fake.setConsumer({ scopes: 'account repository:write' });
    try {
      const noScope = fake.issueTokens('olga').access_token;
      const res = await api(fake, '/workspaces/team/hooks', noScope, { method: 'POST', body: { url: 'http://127.0.0.1:9/s', events: ['repo:push'] } });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ type: 'error', error: { message: 'Your credentials lack one or more required privilege scopes.', detail: { required: ['webhook'] } } });
      expect(fake.workspaceHooksOf('team')).toHaveLength(1);
    } finally {
      fake.setConsumer({ scopes: before });
    }
  });

  test('rate-limited like repo hooks: one counter, a 429 once it is spent, and the rejected POST creates nothing', async () => {
    fake.setRestLimit({ calls: 4, windowMs: 60_000 });
    fake.resetStats();
    expect((await api(fake, '/workspaces/team/hooks', owner)).status).toBe(200);
    expect((await api(fake, '/workspaces/team/hooks', owner, { method: 'POST', body: { url: 'http://127.0.0.1:9/a', events: ['repo:push'] } })).status).toBe(201);
    expect((await api(fake, '/repositories/team/alpha/hooks', owner)).status).toBe(200);
    expect((await api(fake, '/workspaces/team/hooks', member)).status).toBe(403); // let through, so counted
    const limited = await api(fake, '/workspaces/team/hooks', owner, { method: 'POST', body: { url: 'http://127.0.0.1:9/b', events: ['repo:push'] } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(limited.text).toBe('Rate limit for this resource has been exceeded');
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(fake.workspaceHooksOf('team')).toHaveLength(1);
    expect((await api(fake, '/repositories/team/alpha', owner)).status).toBe(429);
    // /2.0/workspaces/{workspace} itself is not limited.
    expect((await api(fake, '/workspaces/team', owner)).status).toBe(200);
    const stats = fake.stats();
    expect(stats.restCalls).toEqual({ [fake.clientId]: 4 });
    expect(stats.restCallsTotal).toBe(4);
    expect(stats.rateLimited).toBe(2);
    expect(stats.requests['GET /2.0/workspaces/{workspace}/hooks']).toBe(2);
    expect(stats.requests['POST /2.0/workspaces/{workspace}/hooks']).toBe(2);
  });

  test('the control API lists a workspace\'s hooks with their secrets', async () => {
    await api(fake, '/workspaces/team/hooks', owner, { method: 'POST', body: { url: 'http://127.0.0.1:9/c', events: ['repo:push'], secret: 'ctl' } });
    const res = await fetch(`${fake.siteUrl}/_fake/workspace-hooks?workspace=team`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { hooks: Json[] }).hooks).toEqual([expect.objectContaining({ repo: null, workspace: 'team', secret: 'ctl' })]);
    expect((await fetch(`${fake.siteUrl}/_fake/workspace-hooks`)).status).toBe(400);
  });
});

describe('workspace hook deliveries', () => {
  test('a push to any repo of the workspace reaches the workspace hook; a repo hook on it gets its own delivery', async () => {
    const receiver = await startReceiver();
    let repoHookUuid = '';
    try {
      const wsHook = (await api(fake, '/workspaces/team/hooks', owner, {
        method: 'POST', body: { url: `${receiver.url}?ws`, events: ['repo:push'], secret: 'ws-secret' },
      })).body as Json;
      // Not subscribed, inactive, and another workspace's hook: none of these is called.
      await api(fake, '/workspaces/team/hooks', owner, { method: 'POST', body: { url: `${receiver.url}?updated`, events: ['repo:updated'] } });
      await api(fake, '/workspaces/team/hooks', owner, { method: 'POST', body: { url: `${receiver.url}?inactive`, events: ['repo:push'], active: false } });
      await api(fake, '/workspaces/elsewhere/hooks', outsider, { method: 'POST', body: { url: `${receiver.url}?elsewhere`, events: ['repo:push'] } });

      // beta has no repo hook: one delivery, to the workspace hook.
      const betaSha = await fake.commit('team', 'beta', { 'b2.txt': 'b2\n' }, { message: 'beta two' });
      const [onBeta, ...noMore] = await fake.deliverPush('team', 'beta');
      expect(noMore).toEqual([]);
      expect(onBeta).toMatchObject({ hookUuid: wsHook.uuid, status: 200, attempts: 1, eventKey: 'repo:push' });
      expect(receiver.received).toHaveLength(1);
      const first = receiver.received[0];
      expect(first.headers['x-hook-uuid']).toBe(bare(String(wsHook.uuid)));
      expect(first.headers['x-hub-signature']).toBe(hmac('ws-secret', first.raw));
      expect(first.headers['x-event-key']).toBe('repo:push');
      const payload = JSON.parse(first.raw.toString('utf8')) as { repository: Json; push: { changes: Array<{ commits: Json[] }> } };
      expect(payload.repository).toMatchObject({ full_name: 'team/beta' });
      expect(payload.push.changes[0].commits.map((c) => c.hash)).toEqual([betaSha]);

      // alpha has a repo hook too: two deliveries of the same body, each with its own hook and request ids.
      const repoHook = (await api(fake, '/repositories/team/alpha/hooks', owner, {
        method: 'POST', body: { url: `${receiver.url}?repo`, events: ['repo:push'], secret: 'repo-secret' },
      })).body as Json;
      repoHookUuid = String(repoHook.uuid);
      await fake.commit('team', 'alpha', { 'a2.txt': 'a2\n' });
      const onAlpha = await fake.deliverPush('team', 'alpha');
      expect(onAlpha.map((d) => d.hookUuid).sort()).toEqual([wsHook.uuid, repoHook.uuid].sort());
      expect(onAlpha.every((d) => d.status === 200)).toBe(true);
      expect(onAlpha[0].requestUuid).not.toBe(onAlpha[1].requestUuid);
      expect(onAlpha[0].body).toBe(onAlpha[1].body);
      const [r1, r2] = receiver.received.slice(1);
      expect(receiver.received).toHaveLength(3);
      const byHook = new Map([r1, r2].map((r) => [String(r.headers['x-hook-uuid']), r]));
      const toWs = byHook.get(bare(String(wsHook.uuid)));
      const toRepo = byHook.get(bare(repoHookUuid));
      expect(toWs && toRepo).toBeTruthy();
      expect(toWs!.headers['x-request-uuid']).not.toBe(toRepo!.headers['x-request-uuid']);
      expect(toWs!.raw.equals(toRepo!.raw)).toBe(true);
      expect(toWs!.headers['x-hub-signature']).toBe(hmac('ws-secret', toWs!.raw));
      expect(toRepo!.headers['x-hub-signature']).toBe(hmac('repo-secret', toRepo!.raw));

      // Redelivery of a workspace hook's delivery: same request id, the hook's current secret.
      const again = await fake.redeliver(onBeta);
      expect(again).toMatchObject({ hookUuid: wsHook.uuid, requestUuid: onBeta.requestUuid, status: 200 });
      expect(receiver.received[3].headers['x-request-uuid']).toBe(first.headers['x-request-uuid']);
      expect(receiver.received[3].headers['x-hub-signature']).toBe(hmac('ws-secret', receiver.received[3].raw));

      // Demoting the owner does not remove the hook (as on Bitbucket): it still fires, though she can no longer manage it.
      fake.addMember('team', 'olga', false);
      try {
        expect((await api(fake, '/workspaces/team/hooks', owner)).status).toBe(403);
        await fake.commit('team', 'beta', { 'b3.txt': 'b3\n' });
        expect((await fake.deliverPush('team', 'beta')).map((d) => d.hookUuid)).toEqual([wsHook.uuid]);
      } finally {
        fake.addMember('team', 'olga', true);
      }
      // Only the two subscribed, active hooks of this workspace were ever called.
      expect(receiver.received).toHaveLength(5);
      const urls = new Set(fake.deliveries().filter((d) => d.url.startsWith(receiver.url)).map((d) => new URL(d.url).search));
      expect([...urls].sort()).toEqual(['?repo', '?ws']);
    } finally {
      if (repoHookUuid) await api(fake, `/repositories/team/alpha/hooks/${encodeURIComponent(repoHookUuid)}`, owner, { method: 'DELETE' });
      await receiver.close();
    }
  });
});

describe('seedWorkspace', () => {
  test('300 cheap repos: all listed, clonable, each with its own head and its own later commits', async () => {
    const t0 = performance.now();
    const names = await seedWorkspace(fake, {
      workspace: 'big', count: 300, owner: 'boss', members: [{ nickname: 'dev', permission: 'write' }, 'viewer'],
    });
    const ms = performance.now() - t0;
    console.log(`seedWorkspace: 300 repos in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(30_000);
    expect(names).toHaveLength(300);
    expect(names[0]).toBe('big/repo-0001');
    expect(names[299]).toBe('big/repo-0300');
    expect(fake.listRepos().filter((r) => r.workspace === 'big')).toHaveLength(300);

    // Listing with role=contributor pages through every repo (the owner by workspace admin, dev by grants; viewer sees none).
    const boss = fake.issueTokens('boss').access_token;
    for (const [token, expected] of [[boss, names], [fake.issueTokens('dev').access_token, names], [fake.issueTokens('viewer').access_token, []]] as const) {
      const listed: string[] = [];
      let next: string | undefined = '/repositories/big?role=contributor&pagelen=100';
      let pages = 0;
      while (next) {
        const res = await api(fake, next, token);
        expect(res.status).toBe(200);
        const body = res.body as { values: Array<{ full_name: string }>; next?: string; size: number };
        expect(body.size).toBe(expected.length);
        listed.push(...body.values.map((v) => v.full_name));
        next = body.next;
        pages++;
      }
      expect(listed.sort()).toEqual([...expected]);
      expect(pages).toBe(expected.length === 0 ? 1 : 3);
    }

    // Spot checks: ls-remote shows main at headOf, every head is different, a clone has the files.
    const heads = new Set<string>();
    for (const full of [names[0], names[149], names[299]]) {
      const slug = full.split('/')[1];
      const head = await fake.headOf('big', slug);
      expect(head).toMatch(/^[0-9a-f]{40}$/);
      heads.add(head!);
      const ls = await runGit(['-c', tokenHeader(boss), 'ls-remote', `${fake.siteUrl}/${full}.git`]);
      expect(ls.code).toBe(0);
      expect(ls.stdout).toContain(`${head}\trefs/heads/main`);
      expect(ls.stdout).toContain(`${head}\tHEAD`);
    }
    expect(heads.size).toBe(3);
    const dest = path.join(tmp, 'repo-0150');
    const clone = await runGit(['-c', tokenHeader(boss), 'clone', '--quiet', `${fake.siteUrl}/big/repo-0150.git`, dest]);
    expect(clone.code).toBe(0);
    expect(readFileSync(path.join(dest, 'README.md'), 'utf8')).toContain('repo-0150');
    expect(readFileSync(path.join(dest, 'src/index.ts'), 'utf8')).toContain('greet');
    expect((await runGit(['log', '--format=%s%n%an <%ae>', 'HEAD'], dest)).stdout.trim()).toBe('Initial commit of big/repo-0150\nboss <boss@example.test>');
    expect((await runGit(['fsck', '--full', '--no-dangling'], fake.gitDirOf('big', 'repo-0150'))).code).toBe(0);
    const repo = await api(fake, '/repositories/big/repo-0150', boss);
    expect(repo.body).toMatchObject({ full_name: 'big/repo-0150', mainbranch: { name: 'main' } });
    expect((repo.body as { size: number }).size).toBeGreaterThan(0);

    // A later commit lands in that repo only, and its push reports only that commit (to a workspace hook here).
    const receiver = await startReceiver();
    try {
      await api(fake, '/workspaces/big/hooks', boss, { method: 'POST', body: { url: receiver.url, events: ['repo:push'] } });
      const seeded = await fake.headOf('big', 'repo-0150');
      const neighbour = await fake.headOf('big', 'repo-0151');
      const sha = await fake.commit('big', 'repo-0150', { 'src/new.ts': 'export const x = 1;\n' }, { message: 'later' });
      expect(await fake.headOf('big', 'repo-0150')).toBe(sha);
      expect(await fake.headOf('big', 'repo-0151')).toBe(neighbour);
      const [d] = await fake.deliverPush('big', 'repo-0150');
      expect(d.status).toBe(200);
      const change = (JSON.parse(d.body) as { push: { changes: Array<Json & { commits: Json[] }> } }).push.changes[0];
      expect(change).toMatchObject({ created: false, forced: false, old: { target: { hash: seeded } }, new: { target: { hash: sha } } });
      expect(change.commits.map((c) => c.hash)).toEqual([sha]);
      const pulled = await runGit(['-c', tokenHeader(boss), 'pull', '--quiet', '--ff-only'], dest);
      expect(pulled.code).toBe(0);
      expect(readFileSync(path.join(dest, 'src/new.ts'), 'utf8')).toBe('export const x = 1;\n');
      const other = path.join(tmp, 'repo-0151');
      expect((await runGit(['-c', tokenHeader(boss), 'clone', '--quiet', `${fake.siteUrl}/big/repo-0151.git`, other])).code).toBe(0);
      expect((await runGit(['ls-files'], other)).stdout.split('\n')).not.toContain('src/new.ts');
      for (const full of ['big/repo-0150', 'big/repo-0151']) {
        expect((await runGit(['fsck', '--full', '--no-dangling'], fake.gitDirOf('big', full.split('/')[1]))).code).toBe(0);
      }
    } finally {
      await receiver.close();
    }
  });

  test('shared content given by the caller, a custom prefix, and no template left behind', async () => {
    const names = await seedWorkspace(fake, {
      workspace: 'small', count: 3, owner: 'olga', slugPrefix: 'svc', files: { 'README.md': '# shared\n', 'deep/er/file.txt': 'x\n' },
    });
    expect(names).toEqual(['small/svc-0001', 'small/svc-0002', 'small/svc-0003']);
    const trees = await Promise.all(names.map(async (n) => (await runGit(['ls-tree', '-r', 'main'], fake.gitDirOf('small', n.split('/')[1]))).stdout));
    expect(new Set(trees).size).toBe(1);
    expect(trees[0]).toMatch(/\tREADME\.md\n.*\tdeep\/er\/file\.txt\n$/s);
    const heads = await Promise.all(names.map((n) => fake.headOf('small', n.split('/')[1])));
    expect(new Set(heads).size).toBe(3); // each repo's commit names it
    expect(existsSync(path.join(fake.dataDir, '.templates'))).toBe(false);
    await expect(seedWorkspace(fake, { workspace: 'small', count: 1 })).rejects.toThrow(/exists/);
  });
});

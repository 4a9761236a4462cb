// Whole workspaces (CONTRACT §13) through the service, against the fake Bitbucket: an owner syncs
// a workspace (one workspace webhook, repos registered from the listing, one added by hand
// adopted, exclusions honoured), new and vanished repos are picked up by the interval, a plain
// member's workspace gets repo hooks, and "Stop syncing" leaves ordinary repos with hooks of their own.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { ADMIN_TOKEN, createAccount, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let token: string;
let accountId: string;

const files = (name: string) => ({ 'README.md': `# ${name}\n`, 'src/main.ts': `export function ${name.replace(/\W/g, '_')}Main(): number {\n  return 1;\n}\n` });

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function recordSyncHistories(workflowId: string): Promise<void> {
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
  try {
    const client = new Client({ connection });
    const runs = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(run);
    runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    for (const [name, run] of [['first-cycle', runs[0]], ['stop', runs[runs.length - 1]]] as const) {
      const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      const file = path.resolve(__dirname, `../fixtures/histories/workspace-sync-${name}.json`);
      fs.writeFileSync(file, JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
    }
  } finally {
    await connection.close();
  }
}

const getWorkspace = async (ws: string) => (await svc.request('GET', `/v1/integrations/bitbucket/workspaces/${ws}`, { token })).body.workspace;
const reposOf = async (ws: string) => ((await svc.request('GET', '/v1/repos', { token })).body.repos as any[]).filter((r) => r.name.startsWith(`${ws}/`));

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, env: { WORKSPACE_SYNC_INTERVAL: '3s' } }));
  fake.setCurrentUser(DEMO.user);
  ({ token, accountId } = await createAccount(svc, 'Org Inc'));
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
}, 60_000);
afterAll(() => stop?.());

describe('an owner syncs a whole workspace', () => {
  const ws = 'orgwide';
  beforeAll(async () => {
    fake.addWorkspace({ slug: ws, name: 'Org Wide', members: [{ nickname: DEMO.user, administrator: true }] });
    for (const slug of ['alpha', 'beta', 'gamma', 'delta', 'legacy-one']) await fake.addRepo({ workspace: ws, slug, files: files(slug), owner: 'alice' });
  });

  it('registers every selected repo from the listing, adopts the one added by hand, covers them with one workspace webhook', async () => {
    const byHand = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: `${ws}/alpha` } });
    expect(byHand.status).toBe(202);
    await waitForRepo(svc, token, byHand.body.repo.id, isReadyAt());
    expect(fake.hooksOf(ws, 'alpha')).toHaveLength(1); // its own repo hook, for now
    fake.resetStats();

    const res = await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: ws, exclude: ['LEGACY-*'] } });
    expect(res.status).toBe(202);
    expect(res.body.workspace).toMatchObject({ workspace: ws, name: 'Org Wide', exclude: ['LEGACY-*'], status: 'syncing', error: null });

    const synced = await eventually(() => getWorkspace(ws), (w) => w.status === 'synced' && w.repos.ready === 4);
    expect(synced).toMatchObject({ status: 'synced', repos: { total: 4, pending: 0, indexing: 0, ready: 4, failed: 0 }, webhook: { scope: 'workspace', status: 'active', error: null } });
    expect(synced.lastSyncedAt).not.toBeNull();

    const repos = await reposOf(ws);
    expect(repos.map((r) => r.name).sort()).toEqual([`${ws}/alpha`, `${ws}/beta`, `${ws}/delta`, `${ws}/gamma`]); // legacy-one excluded
    expect(repos.find((r) => r.name === `${ws}/alpha`).id).toBe(byHand.body.repo.id); // adopted, not copied
    for (const r of repos) {
      expect(r.syncedFrom).toBe(ws);
      expect(r.webhook).toEqual({ status: 'active', error: null });
    }
    // One workspace webhook, with the account's secret; the repo hook made before is gone.
    const [hook, ...more] = fake.workspaceHooksOf(ws);
    expect(more).toEqual([]);
    expect(hook).toMatchObject({ active: true, events: ['repo:push'] });
    expect(hook.url).toContain(`/v1/webhooks/bitbucket/${accountId}`);
    expect(hook.secret).toBeTruthy();
    expect(fake.hooksOf(ws, 'alpha')).toEqual([]);
    // Workspace hooks listing + create + the old repo hook's delete, ⌈5/100⌉ listing (again each 3 s): no lookup per repo.
    const { requests } = fake.stats();
    const hookCalls = Object.entries(requests).filter(([key]) => key.includes('/hooks')).reduce((n, [, c]) => n + c, 0);
    expect(hookCalls).toBeLessThanOrEqual(3);
    expect(requests['GET /2.0/repositories/{workspace}/{repo_slug}'] ?? 0).toBe(0);
    expect(fake.stats().rateLimited).toBe(0);
  }, 120_000);

  it('indexes a push announced by the workspace webhook, and once when a repo hook announces it too', async () => {
    const beta = (await reposOf(ws)).find((r) => r.name === `${ws}/beta`);
    const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
    const indexRuns = async () => {
      const history = await new Client({ connection }).workflow.getHandle(`repo:${beta.id}`).fetchHistory();
      return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncAndIndex').length;
    };
    try {
      let commit = await fake.commit(ws, 'beta', { 'src/new.ts': 'export const added = true;\n' });
      expect((await fake.deliverPush(ws, 'beta')).map((d) => d.status)).toEqual([202]);
      await waitForRepo(svc, token, beta.id, isReadyAt(commit));
      const search = await svc.request('GET', `/v1/repos/${beta.id}/search?q=added`, { token });
      expect(search.body.results.map((r: any) => r.path)).toContain('src/new.ts');

      // Someone also adds a repo hook to our URL (same secret): Bitbucket then delivers each push twice.
      const [workspaceHook] = fake.workspaceHooksOf(ws);
      const owner = fake.issueTokens(DEMO.user).access_token;
      const made = await fetch(`${fake.apiUrl}/repositories/${ws}/beta/hooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: workspaceHook.url, events: ['repo:push'], active: true, secret: workspaceHook.secret }),
      });
      expect(made.status).toBe(201);
      const before = await indexRuns();
      commit = await fake.commit(ws, 'beta', { 'src/twice.ts': 'export const twice = 2;\n' });
      const deliveries = await fake.deliverPush(ws, 'beta');
      expect(deliveries.map((d) => d.status)).toEqual([202, 202]);
      expect(new Set(deliveries.map((d) => d.requestUuid)).size).toBe(2);
      await waitForRepo(svc, token, beta.id, isReadyAt(commit));
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await indexRuns()) - before).toBe(1);
    } finally {
      await connection.close();
    }
  }, 60_000);

  it('picks up a repo created later and marks a deleted one repo_gone by itself, serving its last index', async () => {
    await fake.addRepo({ workspace: ws, slug: 'epsilon', files: files('epsilon'), owner: 'alice' });
    const gamma = (await reposOf(ws)).find((r) => r.name === `${ws}/gamma`);
    await fake.removeRepo(`${ws}/gamma`);
    const after = await eventually(() => reposOf(ws), (rs) => rs.some((r) => r.name === `${ws}/epsilon` && r.status === 'ready') && rs.find((r) => r.id === gamma.id)?.status === 'failed');
    expect(after.find((r) => r.name === `${ws}/epsilon`)).toMatchObject({ status: 'ready', syncedFrom: ws, webhook: { status: 'active', error: null } });
    expect(after.find((r) => r.id === gamma.id)).toMatchObject({ status: 'failed', error: { code: 'repo_gone' }, syncedFrom: ws });
    const tree = await svc.request('GET', `/v1/repos/${gamma.id}/tree`, { token });
    expect(tree.status).toBe(200); // still serving its last index
    expect((await getWorkspace(ws)).repos).toMatchObject({ total: 5, ready: 4, failed: 1 });
  }, 90_000);

  it('is findable in the Temporal UI by LettuceWorkspace', async () => {
    const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection });
      const count = async () => {
        let n = 0;
        for await (const run of client.workflow.list({ query: `LettuceWorkspace = "${ws}" AND LettuceAccountId = "${accountId}" AND ExecutionStatus = "Running"` })) n += run.type === 'workspaceSync' ? 1 : 0;
        return n;
      };
      expect(await eventually(count, (n) => n === 1, 20_000)).toBe(1);
    } finally {
      await connection.close();
    }
  }, 30_000);

  it('answers 200 for a workspace already synced, replacing exclude; a repo no longer excluded is added', async () => {
    const res = await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: ws, exclude: [] } });
    expect(res.status).toBe(200);
    expect(res.body.workspace.exclude).toEqual([]);
    const repos = await eventually(() => reposOf(ws), (rs) => rs.some((r) => r.name === `${ws}/legacy-one` && r.status === 'ready'));
    expect(repos.find((r) => r.name === `${ws}/legacy-one`)).toMatchObject({ status: 'ready', syncedFrom: ws });
  }, 60_000);

  it('stops syncing: the repos stay as ordinary repos, the workspace webhook goes and repo hooks come back', async () => {
    const before = await reposOf(ws);
    const res = await svc.request('DELETE', `/v1/integrations/bitbucket/workspaces/${ws}`, { token });
    expect(res.status).toBe(204);
    expect((await svc.request('GET', `/v1/integrations/bitbucket/workspaces/${ws}`, { token })).status).toBe(404);
    const after = await reposOf(ws);
    expect(after.map((r) => r.id).sort()).toEqual(before.map((r) => r.id).sort());
    for (const r of after) expect(r.syncedFrom).toBeNull();
    await eventually(async () => fake.workspaceHooksOf(ws).length, (n) => n === 0, 30_000);
    expect(fake.workspaceHooksOf(ws)).toEqual([]);
    for (const slug of ['alpha', 'beta', 'delta']) {
      expect(await eventually(async () => fake.hooksOf(ws, slug).length, (n) => n === 1, 30_000)).toBe(1);
    }
    expect((await svc.request('GET', '/v1/integrations/bitbucket/workspaces', { token })).body.workspaces.map((w: any) => w.workspace)).not.toContain(ws);
    // RECORD_HISTORIES=1: the sync's first run (listing, webhook, continue-as-new) and its last (the
    // stop) become replay fixtures (test/integration/workflow-replay.test.ts).
    if (process.env.RECORD_HISTORIES) await recordSyncHistories(`workspace-sync:${accountId}:${ws}`);
  }, 60_000);
});

describe("a plain member's workspace", () => {
  const ws = 'memberorg';
  beforeAll(async () => {
    fake.addWorkspace({ slug: ws, members: [{ nickname: DEMO.user, administrator: false }] });
    for (const slug of ['one', 'two', 'three']) await fake.addRepo({ workspace: ws, slug, files: files(slug), owner: 'alice' });
    fake.grant(DEMO.user, `${ws}/one`, 'admin');
    fake.grant(DEMO.user, `${ws}/two`, 'write');
    fake.grant(DEMO.user, `${ws}/three`, 'read'); // not a contributor: not selected
  });

  it('gets a hook per repo where the user may, and says which repos have none and why', async () => {
    fake.resetStats();
    const res = await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: ws } });
    expect(res.status).toBe(202);
    const done = await eventually(() => getWorkspace(ws), (w) => w.status === 'synced' && w.repos.ready === 2 && w.webhook.status === 'failed');
    expect(done).toMatchObject({ repos: { total: 2, ready: 2 }, webhook: { scope: 'repo', status: 'failed' } });
    expect(done.webhook.error).toMatch(/1 of 2 repos have no push webhook: the connected Bitbucket user is not an admin of 1/);
    const repos = await reposOf(ws);
    expect(repos.map((r) => r.name).sort()).toEqual([`${ws}/one`, `${ws}/two`]);
    expect(repos.find((r) => r.name === `${ws}/one`).webhook).toEqual({ status: 'active', error: null });
    expect(repos.find((r) => r.name === `${ws}/two`).webhook.status).toBe('failed');
    expect(fake.workspaceHooksOf(ws)).toEqual([]);
    expect(fake.hooksOf(ws, 'one')).toHaveLength(1);
    // 2 calls per repo (a hook listing, then a create or the 403), besides a listing per WORKSPACE_SYNC_INTERVAL.
    const { requests } = fake.stats();
    const hookCalls = Object.entries(requests).filter(([key]) => key.includes('/hooks')).reduce((n, [, c]) => n + c, 0);
    expect(hookCalls).toBeLessThanOrEqual(2 * 2);
    expect(requests['GET /2.0/repositories/{workspace}']).toBeGreaterThanOrEqual(1);
  }, 90_000);
});

describe('who may and what is refused', () => {
  it('refuses members, unknown workspaces, bad bodies, and accounts without Bitbucket', async () => {
    const member = await svc.request('POST', `/v1/admin/accounts/${accountId}/users`, { token: ADMIN_TOKEN, body: { email: 'member@org.test', role: 'member' } });
    const memberToken = member.body.token;
    const asMember = await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token: memberToken, body: { workspace: 'orgwide' } });
    expect(asMember.status).toBe(403);
    expect(asMember.body.error.code).toBe('forbidden');
    expect((await svc.request('GET', '/v1/integrations/bitbucket/workspaces', { token: memberToken })).status).toBe(200);

    const unknown = await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: 'no-such-workspace' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('bitbucket_workspace_not_found');

    for (const body of [{}, { workspace: 'a/b' }, { workspace: 'acme', exclude: 'x' }, { workspace: 'acme', exclude: Array(101).fill('x') }, { workspace: 'acme', extra: 1 }, { workspace: 'acme', exclude: [''] }]) {
      const bad = await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body });
      expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
    }
    expect((await svc.request('GET', '/v1/integrations/bitbucket/workspaces/never-synced', { token })).status).toBe(404);
    expect((await svc.request('DELETE', '/v1/integrations/bitbucket/workspaces/never-synced', { token })).status).toBe(404);

    const other = await createAccount(svc, 'Unconnected');
    const notConnected = await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token: other.token, body: { workspace: 'acme' } });
    expect([notConnected.status, notConnected.body.error.code]).toEqual([409, 'not_connected']);
  }, 30_000);
});

// A synced workspace under Bitbucket's limits and faults (CONTRACT §13): a plain member's workspace
// needs two REST calls per repo for its hooks, far more than a tiny BITBUCKET_REST_BUDGET allows at
// once — the sync waits for the budget (0 429s drawn) and ends with every repo hooked; a listing
// answering 503 and 429 is retried; a workspace added while a listing fails for good shows why.
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { createAccount, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let token: string;

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}
const getWorkspace = async (ws: string) => (await svc.request('GET', `/v1/integrations/bitbucket/workspaces/${ws}`, { token })).body.workspace;

beforeAll(async () => {
  // 8 calls in any 4 s (background stops at 7); Bitbucket's limit scaled the same way: 10 in 4 s.
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, env: { BITBUCKET_REST_BUDGET: '8/4s', WORKSPACE_SYNC_INTERVAL: '0' } }));
  fake.setRestLimit({ calls: 10, windowMs: 4_000 });
  fake.setCurrentUser(DEMO.user);
  ({ token } = await createAccount(svc, 'Budget Org'));
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
}, 60_000);
afterAll(() => stop?.());

it("a member's workspace waits for the REST budget instead of drawing 429s, and ends with every repo hooked", async () => {
  const ws = 'budgetorg';
  fake.addWorkspace({ slug: ws, members: [{ nickname: DEMO.user, administrator: false }] });
  for (let i = 0; i < 8; i++) {
    await fake.addRepo({ workspace: ws, slug: `r${i}`, files: { 'README.md': `# r${i}\n` }, owner: 'alice' });
    fake.grant(DEMO.user, `${ws}/r${i}`, 'admin');
  }
  fake.resetStats();
  const started = Date.now();
  expect((await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: ws } })).status).toBe(202);
  const done = await eventually(() => getWorkspace(ws), (w) => w.repos.ready === 8 && w.webhook.status === 'active');
  expect(done).toMatchObject({ status: 'synced', repos: { total: 8, ready: 8 }, webhook: { scope: 'repo', status: 'active', error: null } });
  for (let i = 0; i < 8; i++) expect(fake.hooksOf(ws, `r${i}`)).toHaveLength(1);
  // 1 listing + 16 hook calls cannot fit in one 4 s window of 7 background calls: it waited.
  expect(Date.now() - started).toBeGreaterThan(4_000);
  expect(fake.stats().rateLimited).toBe(0);
}, 120_000);

it('retries a listing that answers 503 and 429; shows a workspace the user lost as failed, with the reason', async () => {
  const ws = 'flaky';
  fake.addWorkspace({ slug: ws, members: [{ nickname: DEMO.user, administrator: true }] });
  await fake.addRepo({ workspace: ws, slug: 'only', files: { 'README.md': '# only\n' }, owner: 'alice' });
  fake.injectFault({ method: 'GET', path: `/2.0/repositories/${ws}`, status: 503, times: 4 });
  fake.injectFault({ method: 'GET', path: `/2.0/repositories/${ws}`, status: 429, times: 2 });
  expect((await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: ws } })).status).toBe(202);
  const done = await eventually(() => getWorkspace(ws), (w) => w.status === 'synced' && w.repos.ready === 1);
  expect(done).toMatchObject({ status: 'synced', repos: { total: 1, ready: 1 }, webhook: { scope: 'workspace', status: 'active' }, error: null });

  // The connected user leaves the workspace: adding it again is refused, and the next sync (after a
  // reconnect) shows the workspace failed with the reason; its repo stays, serving its index.
  fake.removeMember(ws, DEMO.user);
  const again = await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: ws } });
  expect([again.status, again.body.error?.code]).toEqual([404, 'bitbucket_workspace_not_found']);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  const failed = await eventually(() => getWorkspace(ws), (w) => w.status === 'failed');
  expect(failed).toMatchObject({ status: 'failed', error: { code: 'bitbucket_workspace_not_found' } });
  expect(failed.error.message).toContain(ws);
  const repos = (await svc.request('GET', '/v1/repos', { token })).body.repos.filter((r: any) => r.name === `${ws}/only`);
  expect(repos).toHaveLength(1);
  expect(repos[0].status).toBe('ready');
}, 120_000);

// Bitbucket misbehaving on every call the service makes — 500/503, 429, and answers that never
// come — and what the connection or the repo looks like afterwards. Every case checks the end
// state and that nothing was lost or made twice (one installation, one repo row, one webhook,
// the index at the head).
//
// Calls covered: the token endpoint (code exchange and refresh), /2.0/user, /2.0/user/workspaces,
// /2.0/repositories/{ws}, /2.0/repositories/{ws}/{slug}, hooks list and create, git-upload-pack.
// A hang ties up one attempt until the client's timeout (15 s for REST calls; for git the test
// sets git's own GIT_HTTP_LOW_SPEED_* knobs to 3 s instead of waiting the 15-minute git timeout).
import type { FaultSpec } from '../fakes/bitbucket/server';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, type FakeBitbucket } from '../support/bitbucket';
import { getRepo, isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';
import type { HoldProxy } from './support/hold-proxy';
import { addBitbucketRepo, ourHooks, query, sleep, startFaultStack } from './support/harness';

let fake: FakeBitbucket;
let svc: TestService;
let apiProxy: HoldProxy;
let stop: () => Promise<void>;

const TOKEN_PATH = '/site/oauth2/access_token';

beforeAll(async () => {
  // git gives up on a transfer that stalls for 3 s (production: the 15-minute git timeout).
  process.env.GIT_HTTP_LOW_SPEED_LIMIT = '1000';
  process.env.GIT_HTTP_LOW_SPEED_TIME = '3';
  const stack = await startFaultStack({ proxyApi: true });
  ({ fake, svc, stop } = stack);
  apiProxy = stack.apiProxy!;
}, 120_000);
afterAll(() => stop?.());
afterEach(() => fake.clearFaults());

async function connectedAccount() {
  const account = await createAccount(svc);
  expect((await connect(svc, account.token)).location).toContain('bitbucket=connected');
  return account;
}

async function integration(token: string) {
  return (await svc.request('GET', '/v1/integrations/bitbucket', { token })).body;
}

function served(): number {
  return fake.stats().faultsServed;
}

/** Makes the service judge the stored access token as expiring, so its next use refreshes it. */
async function expireStoredToken(accountId: string) {
  await query(`UPDATE provider_installations SET expires_at = now() WHERE account_id = $1`, [accountId]);
}

async function installations(accountId: string): Promise<number> {
  return (await query(`SELECT count(*)::int AS n FROM provider_installations WHERE account_id = $1`, [accountId]))[0].n;
}

const TRANSIENT: Array<{ label: string; fault: Omit<FaultSpec, 'path' | 'method'> }> = [
  { label: '500 twice', fault: { status: 500, times: 2 } },
  { label: '503 three times', fault: { status: 503, times: 3 } },
  { label: '429 three times', fault: { status: 429, times: 3 } },
];

describe('token endpoint', () => {
  it('code exchange: 500, 503 and 429 are retried; each connect ends connected with one installation', async () => {
    for (const { label, fault } of TRANSIENT) {
      const before = served();
      const { token, accountId } = await createAccount(svc);
      fake.injectFault({ method: 'POST', path: TOKEN_PATH, ...fault });
      const { location } = await connect(svc, token);
      expect([label, location]).toEqual([label, expect.stringContaining('bitbucket=connected')]);
      expect(served() - before).toBe(fault.times);
      expect(await integration(token)).toMatchObject({ connected: true, needsReauth: false, bitbucketUser: { displayName: DEMO.displayName } });
      expect(await installations(accountId)).toBe(1);
    }
  });

  it('code exchange: an answer that never comes is abandoned after the timeout and retried: connected', async () => {
    const { token, accountId } = await createAccount(svc);
    fake.injectFault({ method: 'POST', path: TOKEN_PATH, hang: true, times: 1 });
    const started = Date.now();
    expect((await connect(svc, token)).location).toContain('bitbucket=connected');
    expect(Date.now() - started).toBeGreaterThan(14_000); // one attempt waited out the 15 s timeout
    expect(await integration(token)).toMatchObject({ connected: true, needsReauth: false });
    expect(await installations(accountId)).toBe(1);
    expect(fake.stats().tokenExchanges).toBeGreaterThan(0);
  }, 60_000);

  it('refresh: 500/503/429 and a hang are retried with the same refresh token; exactly one refresh each, never needs_reauth', async () => {
    const { token, accountId } = await connectedAccount();
    for (const { label, fault } of [...TRANSIENT, { label: 'hang once', fault: { hang: true, times: 1 } }]) {
      await expireStoredToken(accountId);
      const refreshes = fake.stats().refreshes;
      fake.injectFault({ method: 'POST', path: TOKEN_PATH, ...fault });
      const picker = await svc.request('GET', '/v1/integrations/bitbucket/repos', { token });
      expect([label, picker.status]).toEqual([label, 200]);
      expect(picker.body.repos.map((r: any) => r.fullName)).toContain(DEMO.repos.api);
      expect([label, fake.stats().refreshes - refreshes]).toEqual([label, 1]);
      expect((await integration(token)).needsReauth).toBe(false);
    }
    expect(fake.stats().refreshFailures).toBe(0);
  }, 90_000);

  it('refresh: a lasting outage answers 502 bitbucket_unavailable (not needs_reauth), and the next call after it works', async () => {
    const { token, accountId } = await connectedAccount();
    await expireStoredToken(accountId);
    fake.injectFault({ method: 'POST', path: TOKEN_PATH, status: 503, times: Infinity });
    const down = await svc.request('GET', '/v1/integrations/bitbucket/repos', { token });
    expect(down.status).toBe(502);
    expect(down.body).toEqual({ error: { code: 'bitbucket_unavailable', message: expect.any(String) } });
    expect((await integration(token)).needsReauth).toBe(false);
    fake.clearFaults();
    const refreshes = fake.stats().refreshes;
    expect((await svc.request('GET', '/v1/integrations/bitbucket/repos', { token })).status).toBe(200);
    expect(fake.stats().refreshes - refreshes).toBe(1);
    expect(fake.stats().refreshFailures).toBe(0);
  });
});

describe('/2.0/user (read after the exchange)', () => {
  it('500/503/429 and a hang: connected with the Bitbucket user', async () => {
    for (const { label, fault } of [...TRANSIENT, { label: 'hang once', fault: { hang: true, times: 1 } }]) {
      const { token, accountId } = await createAccount(svc);
      fake.injectFault({ method: 'GET', path: '/2.0/user', ...fault });
      expect([label, (await connect(svc, token)).location]).toEqual([label, expect.stringContaining('bitbucket=connected')]);
      expect([label, await integration(token)]).toEqual([label, expect.objectContaining({ connected: true, bitbucketUser: expect.objectContaining({ displayName: DEMO.displayName }) })]);
      expect(await installations(accountId)).toBe(1);
    }
  }, 90_000);

  it('a lasting outage still connects (the display name is optional): connected, no user yet', async () => {
    const { token, accountId } = await createAccount(svc);
    fake.injectFault({ method: 'GET', path: '/2.0/user', status: 503, times: Infinity });
    expect((await connect(svc, token)).location).toContain('bitbucket=connected');
    expect(await integration(token)).toMatchObject({ connected: true, needsReauth: false, bitbucketUser: null });
    expect(await installations(accountId)).toBe(1);
  }, 60_000);
});

describe('repo picker: /2.0/user/workspaces and /2.0/repositories/{ws}', () => {
  const WORKSPACES = '/2.0/user/workspaces';
  const REPOS_OF_WS = /^\/2\.0\/repositories\/[^/]+$/;
  let token: string;
  let expected: string[];

  beforeAll(async () => {
    ({ token } = await connectedAccount());
    expected = (await svc.request('GET', '/v1/integrations/bitbucket/repos', { token })).body.repos.map((r: any) => r.fullName);
    expect(expected.length).toBeGreaterThanOrEqual(5);
  });

  const names = async () => {
    const res = await svc.request('GET', '/v1/integrations/bitbucket/repos', { token });
    return { status: res.status, body: res.body, names: res.status === 200 ? res.body.repos.map((r: any) => r.fullName) : null };
  };

  it('500/503/429 on either call: the full list, nothing missing or doubled', async () => {
    for (const path of [WORKSPACES, REPOS_OF_WS]) {
      for (const { label, fault } of TRANSIENT) {
        const before = served();
        fake.injectFault({ method: 'GET', path, ...fault });
        const res = await names();
        expect([String(path), label, res.status, res.names]).toEqual([String(path), label, 200, expected]);
        expect(served() - before).toBe(fault.times);
      }
    }
  });

  it('a hang on each call: both pickers answer the full list after the timeout', async () => {
    const before = served();
    fake.injectFault({ method: 'GET', path: WORKSPACES, hang: true, times: 1 });
    fake.injectFault({ method: 'GET', path: REPOS_OF_WS, hang: true, times: 1 });
    const [a, b] = await Promise.all([names(), names()]);
    expect([a.status, a.names, b.status, b.names]).toEqual([200, expected, 200, expected]);
    expect(served() - before).toBe(2);
  }, 60_000);

  it('a lasting outage of either call: 502 bitbucket_unavailable in the contract shape; then the full list again', async () => {
    for (const path of [WORKSPACES, REPOS_OF_WS]) {
      for (const status of [500, 429]) {
        fake.injectFault({ method: 'GET', path, status, times: Infinity });
        const down = await names();
        expect([String(path), status, down.status, down.body]).toEqual([String(path), status, 502, { error: { code: 'bitbucket_unavailable', message: expect.any(String) } }]);
        fake.clearFaults();
        expect(await names()).toMatchObject({ status: 200, names: expected });
      }
    }
  });
});

describe('repo calls: /2.0/repositories/{ws}/{slug}, hooks list, hooks create, git-upload-pack', () => {
  type Call = 'repo' | 'hooks-list' | 'hooks-create' | 'pack';
  const CALLS: Call[] = ['repo', 'hooks-list', 'hooks-create', 'pack'];
  const faultTarget = (call: Call, slug: string): Pick<FaultSpec, 'method' | 'path'> =>
    ({
      repo: { method: 'GET', path: `/2.0/repositories/demo/${slug}` },
      'hooks-list': { method: 'GET', path: `/2.0/repositories/demo/${slug}/hooks` },
      'hooks-create': { method: 'POST', path: `/2.0/repositories/demo/${slug}/hooks` },
      pack: { method: 'POST', path: `/demo/${slug}.git/git-upload-pack` },
    })[call];

  async function newRepo(slug: string): Promise<string> {
    await fake.addRepo({ workspace: 'demo', slug, files: { 'README.md': `# ${slug}\n`, 'src/main.ts': `export const name = '${slug}';\n` }, owner: DEMO.user });
    return `demo/${slug}`;
  }

  /** Adds every repo at once; each must end ready at its head with exactly one active webhook. */
  async function addAllAndCheck(token: string, accountId: string, fullNames: string[], timeoutMs = 90_000) {
    const added = await Promise.all(fullNames.map((n) => addBitbucketRepo(svc, token, n)));
    for (const [i, res] of added.entries()) expect([fullNames[i], res.status]).toEqual([fullNames[i], 202]);
    await Promise.all(
      added.map(async (res, i) => {
        const [ws, slug] = fullNames[i].split('/');
        const { repo } = await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf(ws, slug)), timeoutMs);
        expect([fullNames[i], repo.webhook, repo.error]).toEqual([fullNames[i], { status: 'active', error: null }, null]);
        expect([fullNames[i], ourHooks(fake, fullNames[i], accountId).length]).toEqual([fullNames[i], 1]);
      }),
    );
    const listed = (await svc.request('GET', '/v1/repos', { token })).body.repos.map((r: any) => r.name).sort();
    expect(listed).toEqual([...fullNames].sort());
  }

  it('500, 503 and 429 on each call: every repo ready at its head with one webhook', async () => {
    const { token, accountId } = await connectedAccount();
    const before = served();
    const names: string[] = [];
    let expectedFaults = 0;
    for (const call of CALLS) {
      for (const [i, { fault }] of TRANSIENT.entries()) {
        const slug = `t-${call}-${i}`;
        names.push(await newRepo(slug));
        // git itself does not retry: one failed upload-pack fails the attempt, and Temporal retries it.
        const times = call === 'pack' ? 1 : fault.times!;
        fake.injectFault({ ...faultTarget(call, slug), ...fault, times });
        expectedFaults += times;
      }
    }
    await addAllAndCheck(token, accountId, names);
    expect(served() - before).toBe(expectedFaults);
  }, 120_000);

  it('a hang on each call: abandoned at the timeout, retried; every repo ready with one webhook', async () => {
    const { token, accountId } = await connectedAccount();
    const before = served();
    const names: string[] = [];
    for (const call of CALLS) {
      const slug = `h-${call}`;
      names.push(await newRepo(slug));
      fake.injectFault({ ...faultTarget(call, slug), hang: true, times: 1 });
    }
    await addAllAndCheck(token, accountId, names);
    expect(served() - before).toBe(CALLS.length);
  }, 120_000);

  it('GET repo down for good: 502 bitbucket_unavailable and no repo row; after recovery one repo', async () => {
    const { token, accountId } = await connectedAccount();
    const name = await newRepo('p-repo');
    fake.injectFault({ ...faultTarget('repo', 'p-repo'), status: 503, times: Infinity });
    const down = await addBitbucketRepo(svc, token, name);
    expect(down.status).toBe(502);
    expect(down.body).toEqual({ error: { code: 'bitbucket_unavailable', message: expect.any(String) } });
    expect((await svc.request('GET', '/v1/repos', { token })).body.repos).toEqual([]);
    expect((await query(`SELECT count(*)::int AS n FROM repos WHERE account_id = $1`, [accountId]))[0].n).toBe(0);
    fake.clearFaults();
    await addAllAndCheck(token, accountId, [name]);
  }, 60_000);

  it('hooks list or create down for a while: indexing waits for the webhook step, which ends active with one hook', async () => {
    const { token, accountId } = await connectedAccount();
    const names = [await newRepo('p-hooks-list'), await newRepo('p-hooks-create')];
    fake.injectFault({ ...faultTarget('hooks-list', 'p-hooks-list'), status: 503, times: Infinity });
    fake.injectFault({ ...faultTarget('hooks-create', 'p-hooks-create'), status: 500, times: Infinity });
    const added = await Promise.all(names.map((n) => addBitbucketRepo(svc, token, n)));
    await sleep(6_000);
    for (const res of added) expect((await getRepo(svc, token, res.body.repo.id)).status).toBe('pending');
    expect(ourHooks(fake, names[1], accountId)).toHaveLength(0);
    fake.clearFaults();
    for (const res of added) await waitForRepo(svc, token, res.body.repo.id, (r) => r.status === 'ready' && r.webhook.status === 'active', 60_000);
    for (const n of names) expect(ourHooks(fake, n, accountId)).toHaveLength(1);
  }, 90_000);

  it('git-upload-pack down for good: failed with clone_failed (not stuck); a re-index after recovery makes it ready', async () => {
    const { token, accountId } = await connectedAccount();
    const name = await newRepo('p-pack');
    fake.injectFault({ ...faultTarget('pack', 'p-pack'), status: 503, times: Infinity });
    const res = await addBitbucketRepo(svc, token, name);
    const { repo: failed } = await waitForRepo(svc, token, res.body.repo.id, (r) => r.status === 'failed', 60_000);
    expect(failed.error.code).toBe('clone_failed');
    expect(failed.lastIndexedCommit).toBeNull();
    expect(failed.webhook.status).toBe('active');
    fake.clearFaults();
    expect((await svc.request('POST', `/v1/repos/${res.body.repo.id}/reindex`, { token })).status).toBe(202);
    await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf('demo', 'p-pack')), 60_000);
    expect(ourHooks(fake, name, accountId)).toHaveLength(1);
  }, 120_000);

  it('hooks create done by Bitbucket but its answer lost (timeout): still exactly one webhook', async () => {
    const { token, accountId } = await connectedAccount();
    const name = await newRepo('lost-create');
    apiProxy.holdAnswers({ method: 'POST', path: /^\/2\.0\/repositories\/demo\/lost-create\/hooks$/, times: 1 });
    const res = await addBitbucketRepo(svc, token, name);
    const { repo } = await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf('demo', 'lost-create')), 90_000);
    expect(apiProxy.held()).toBeGreaterThanOrEqual(1);
    expect(repo.webhook.status).toBe('active');
    expect(ourHooks(fake, name, accountId)).toHaveLength(1);
  }, 120_000);
});

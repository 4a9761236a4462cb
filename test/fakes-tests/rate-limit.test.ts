// The fake Bitbucket's REST rate limit (reference §2.8, CONTRACT §13): repository and webhook
// resources, a rolling window, counted per OAuth consumer whichever user the token belongs to;
// 429 text/plain without Retry-After beyond it, before any side effect.
import { DEMO, seedDemo } from '../fakes/bitbucket/seed';
import { BITBUCKET_REST_LIMIT, isLimitedRestPath, RestRateLimiter } from '../fakes/bitbucket/rate-limit';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { api, basic, tokenRequest } from './helpers';

jest.setTimeout(30_000);

const LIMIT = { calls: 5, windowMs: 1000 };
const RATE_LIMIT_TEXT = 'Rate limit for this resource has been exceeded';

let fake: FakeBitbucket;
let demo: string;
let alice: string;

beforeAll(async () => {
  fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', restLimit: LIMIT });
  await seedDemo(fake);
});

afterAll(() => fake.close());

beforeEach(() => {
  // A fresh window for every test (null forgets the calls counted).
  fake.setRestLimit(null);
  fake.setRestLimit(LIMIT);
  fake.clearFaults();
  fake.resetStats();
  demo = fake.issueTokens(DEMO.user).access_token;
  alice = fake.issueTokens(DEMO.otherUser).access_token;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectRateLimited(r: { status: number; headers: Headers; text: string }): void {
  expect(r.status).toBe(429);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(r.text).toBe(RATE_LIMIT_TEXT);
  expect(r.headers.get('retry-after')).toBeNull();
  expect([...r.headers.keys()].filter((k) => k.startsWith('x-ratelimit'))).toEqual([]);
}

/** Spends `n` calls of the window on repository resources as `token`, each answered normally. */
async function spend(token: string, n: number): Promise<void> {
  const paths = ['/repositories/demo/hello-ts', '/repositories/demo?role=contributor', '/repositories/demo/hello-ts/hooks'];
  for (let i = 0; i < n; i++) expect((await api(fake, paths[i % paths.length], token)).status).toBe(200);
}

test('the default is Bitbucket\'s limit, 1,000 calls an hour; null turns it off', async () => {
  expect(BITBUCKET_REST_LIMIT).toEqual({ calls: 1000, windowMs: 3_600_000 });
  const real = await startFakeBitbucket();
  const off = await startFakeBitbucket({ restLimit: null });
  try {
    expect(real.restLimit()).toEqual({ calls: 1000, windowMs: 3_600_000 });
    expect(off.restLimit()).toBeNull();
  } finally {
    await real.close();
    await off.close();
  }
  expect(fake.restLimit()).toEqual(LIMIT);
  expect(() => fake.setRestLimit({ calls: -1, windowMs: 1000 })).toThrow(/calls/);
  expect(() => fake.setRestLimit({ calls: 5, windowMs: 0 })).toThrow(/windowMs/);
});

test('the 6th repository call within the window answers 429 text/plain, the exact body, no Retry-After', async () => {
  await spend(demo, 5);
  const sixth = await api(fake, '/repositories/acme/api', demo);
  expectRateLimited(sixth);
  // Every repository and webhook resource is limited: listings, hooks, workspace hooks.
  for (const path of ['/repositories/demo', '/repositories/demo/hello-ts/hooks', '/workspaces/demo/hooks', '/repositories/demo/nope']) {
    expectRateLimited(await api(fake, path, demo));
  }
  const stats = fake.stats();
  expect(stats.restCalls).toEqual({ [fake.clientId]: 5 });
  expect(stats.restCallsTotal).toBe(5);
  expect(stats.rateLimited).toBe(5);
  expect(stats.faultsServed).toBe(0);
});

test('every user\'s token of the consumer shares one counter', async () => {
  const demoAgain = fake.issueTokens(DEMO.user).access_token;
  await spend(demo, 2);
  await spend(demoAgain, 1);
  expect((await api(fake, '/repositories/acme/api', alice)).status).toBe(200);
  expect((await api(fake, '/repositories/acme/api/hooks', alice)).status).toBe(200);
  expect(fake.stats().restCalls).toEqual({ [fake.clientId]: 5 });
  expectRateLimited(await api(fake, '/repositories/acme/api', alice));
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demo));
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demoAgain));
  expect(fake.stats().rateLimited).toBe(3);
});

test('git over HTTPS, the token endpoint and /2.0/user… still answer while limited', async () => {
  const pair = fake.issueTokens(DEMO.user);
  await spend(pair.access_token, 5);
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', pair.access_token));

  const refs = await fetch(`${fake.siteUrl}/demo/hello-ts.git/info/refs?service=git-upload-pack`, {
    headers: { Authorization: basic('x-token-auth', pair.access_token) },
  });
  expect(refs.status).toBe(200);
  expect(await refs.text()).toContain('refs/heads/main');
  expect((await api(fake, '/user', pair.access_token)).status).toBe(200);
  expect((await api(fake, '/user/workspaces', pair.access_token)).status).toBe(200);
  expect((await api(fake, '/workspaces/demo', pair.access_token)).status).toBe(200);
  const refreshed = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: pair.refresh_token! });
  expect(refreshed.status).toBe(200);
  const next = ((await refreshed.json()) as { access_token: string }).access_token;

  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', next));
  const stats = fake.stats();
  expect(stats.restCalls).toEqual({ [fake.clientId]: 5 });
  expect(stats.rateLimited).toBe(2);
  expect(stats.gitFetches).toBe(1);
});

test('calls without a valid token and injected faults are not counted', async () => {
  for (let i = 0; i < 6; i++) expect((await api(fake, '/repositories/demo/hello-ts', null)).status).toBe(401);
  expect((await api(fake, '/repositories/demo/hello-ts', 'not-a-token')).status).toBe(401);
  fake.injectFault({ path: '/2.0/repositories/demo/hello-ts', status: 429, times: 2 });
  for (let i = 0; i < 2; i++) expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demo));
  expect(fake.stats()).toMatchObject({ restCalls: {}, restCallsTotal: 0, rateLimited: 0, faultsServed: 2 });
  await spend(demo, 5);
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demo));
});

test('the window rolls: after it passes, calls succeed again', async () => {
  await spend(demo, 5);
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demo));
  await sleep(LIMIT.windowMs + 100);
  expect(fake.stats().restCalls).toEqual({});
  await spend(demo, 5);
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demo));
  // The 429s did not extend the window.
  expect(fake.stats()).toMatchObject({ restCalls: { [fake.clientId]: 5 }, restCallsTotal: 10, rateLimited: 2 });
});

test('a rejected hook creation creates nothing', async () => {
  const before = fake.hooksOf('demo', 'hello-ts');
  await spend(demo, 5);
  const created = await api(fake, '/repositories/demo/hello-ts/hooks', demo, {
    method: 'POST',
    body: { description: 'Lettuce', url: 'https://lettuce.test/v1/webhooks/bitbucket/x', active: true, events: ['repo:push'] },
  });
  expectRateLimited(created);
  expect(fake.hooksOf('demo', 'hello-ts')).toEqual(before);
  await sleep(LIMIT.windowMs + 100);
  const listed = await api(fake, '/repositories/demo/hello-ts/hooks', demo);
  expect(listed.status).toBe(200);
  expect((listed.body as { values: unknown[] }).values).toHaveLength(before.length);
});

test('setRestLimit(null) lifts the limit; a larger limit applies to the calls already counted', async () => {
  await spend(demo, 5);
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demo));
  fake.setRestLimit({ calls: 7, windowMs: 60_000 });
  await spend(demo, 2);
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demo));
  fake.setRestLimit(null);
  expect(fake.restLimit()).toBeNull();
  await spend(demo, 12);
  expect(fake.stats()).toMatchObject({ restCalls: {}, restCallsTotal: 19, rateLimited: 2 });
});

test('the control API reads and sets the limit', async () => {
  const ctl = (method: string, body?: unknown) => fetch(`${fake.siteUrl}/_fake/rest-limit`, {
    method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  await spend(demo, 1);
  expect(await (await ctl('GET')).json()).toEqual({ limit: LIMIT, restCalls: { [fake.clientId]: 1 } });
  const set = await ctl('PUT', { limit: { calls: 1, windowMs: 60_000 } });
  expect(await set.json()).toEqual({ limit: { calls: 1, windowMs: 60_000 } });
  expectRateLimited(await api(fake, '/repositories/demo/hello-ts', demo));
  expect((await ctl('PUT', { limit: { calls: 'many' } })).status).toBe(400);
  expect((await ctl('PUT', { limit: { calls: -3, windowMs: 10 } })).status).toBe(400);
  expect(await (await ctl('PUT', { limit: null })).json()).toEqual({ limit: null });
  await spend(demo, 2);
});

describe('the limiter itself', () => {
  test('which paths are limited: repository and webhook resources only', () => {
    for (const p of ['/2.0/repositories/ws', '/2.0/repositories/ws/slug', '/2.0/repositories/ws/slug/hooks', '/2.0/repositories/ws/slug/hooks/%7Bu%7D',
      '/2.0/repositories/ws/slug/src/main/x', '/2.0/workspaces/ws/hooks', '/2.0/workspaces/ws/hooks/%7Bu%7D']) {
      expect([p, isLimitedRestPath(p)]).toEqual([p, true]);
    }
    for (const p of ['/2.0/user', '/2.0/user/workspaces', '/2.0/user/permissions/repositories', '/2.0/workspaces/ws', '/2.0/workspaces',
      '/2.0/repositories', '/2.0/repositories/', '/site/oauth2/access_token', '/ws/slug.git/info/refs', '/ws/slug.git/git-upload-pack',
      '/2.0/workspaces/ws/hooksx']) {
      expect([p, isLimitedRestPath(p)]).toEqual([p, false]);
    }
  });

  test('a rolling window per consumer, not a fixed one', () => {
    let now = 0;
    const limiter = new RestRateLimiter({ calls: 3, windowMs: 1000 }, () => now);
    expect(limiter.admit('a')).toBe(true); // t=0
    now = 400;
    expect(limiter.admit('a')).toBe(true);
    expect(limiter.admit('a')).toBe(true);
    expect(limiter.admit('a')).toBe(false);
    expect(limiter.admit('b')).toBe(true); // another consumer has its own window
    now = 999;
    expect(limiter.admit('a')).toBe(false);
    now = 1000; // the call at t=0 leaves the window; the two at 400 stay until 1400
    expect(limiter.admit('a')).toBe(true);
    expect(limiter.admit('a')).toBe(false);
    expect(limiter.counts()).toEqual({ a: 3, b: 1 });
    now = 1400;
    expect(limiter.counts()).toEqual({ a: 1 });
    expect(limiter.admit('a')).toBe(true);
    expect(limiter.admit('a')).toBe(true);
    expect(limiter.admit('a')).toBe(false);
  });

  test('thousands of calls stay cheap', () => {
    let now = 0;
    const limiter = new RestRateLimiter({ calls: 1000, windowMs: 60_000 }, () => now);
    let admitted = 0;
    const started = performance.now();
    for (let i = 0; i < 200_000; i++) {
      now = i * 10; // 100 calls a second offered, 1,000 a minute allowed
      if (limiter.admit('c')) admitted++;
    }
    expect(performance.now() - started).toBeLessThan(2000);
    // Each minute from t=0 lets 1,000 through (its first 10 s worth of calls): 34 minutes begin within 2,000 s.
    expect(admitted).toBe(34_000);
    expect(limiter.counts().c).toBeLessThanOrEqual(1000);
  });
});

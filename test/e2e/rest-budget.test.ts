// BITBUCKET_REST_BUDGET through the service (CONTRACT §13): with a budget far below what adding
// repos costs and the fake enforcing Bitbucket's limit at the same scale, background registration
// (hook listing and creation, in activities) waits for the window instead of drawing 429s, user-facing calls (the add's lookup) are counted apart, and
// /metrics reports both and the waits.
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;

beforeAll(async () => {
  // 4 calls in any 3 s: background work stops at 3, leaving 1 to users.
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, env: { BITBUCKET_REST_BUDGET: '4/3s' } }));
  // Bitbucket's limit scaled down the same way: 5 in any 3 s (the budget stays below it, as 900 below 1,000).
  fake.setRestLimit({ calls: 5, windowMs: 3_000 });
});
afterAll(() => stop?.());

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : NaN;
}

it('spreads the calls of three repo registrations over the window, every repo ready with its webhook', async () => {
  const { token } = await createAccount(svc);
  fake.setCurrentUser(DEMO.user);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  const started = Date.now();
  const added = [];
  for (const name of [DEMO.repos.hello, DEMO.repos.api, DEMO.repos.worker]) {
    const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: name } });
    expect(res.status).toBe(202);
    added.push(res.body.repo.id as string);
  }
  for (const id of added) {
    const { repo } = await waitForRepo(svc, token, id, isReadyAt(), 90_000);
    expect(repo.webhook).toEqual({ status: 'active', error: null });
  }
  // 3 lookups (user) and 6 hook calls (background) cannot fit in one 3 s window of 4.
  expect(Date.now() - started).toBeGreaterThan(3_000);
  expect(fake.stats().rateLimited).toBe(0); // no call drew a 429 from Bitbucket
  // The totals are the database's, which every test file of the run shares: at least this test's.
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  expect(metric(metrics, 'lettuce_bitbucket_rest_calls_total{kind="user"}')).toBeGreaterThanOrEqual(3);
  expect(metric(metrics, 'lettuce_bitbucket_rest_calls_total{kind="background"}')).toBeGreaterThanOrEqual(6);
  expect(metric(metrics, 'lettuce_bitbucket_budget_waits_total')).toBeGreaterThan(0);
  expect(metric(metrics, 'lettuce_bitbucket_rate_limited_total')).toBeGreaterThanOrEqual(0);
}, 120_000);

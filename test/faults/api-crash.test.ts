// kill -9 of the API between accepting a webhook delivery and signalling the repo's workflow.
//
// The receiver records an accepted push (committed) before it answers, and its dispatcher signals
// the workflow afterwards; the API runs here as a real child process whose Temporal and PostgreSQL
// connections go through TCP proxies, so the kill lands at an exact point:
//   1. answered 202, signal not yet sent (Temporal's side of the proxy swallows it): the restarted
//      API finds the recorded push waiting and signals it — Bitbucket never needed to retry;
//   2. recorded, answer not yet sent (PostgreSQL's reply to the INSERT is swallowed): Bitbucket
//      sees the API die, and its retry with the same X-Request-UUID succeeds (the push is
//      already recorded) while the restarted API signals it.
// Either way the repo reaches the pushed head, one row per delivery, nothing indexed twice.
import { createLogger } from '../../src/logger';
import { startService, type RunningService } from '../../src/service';
import { installWorkerRuntime } from '../../src/temporal/runtime';
import { freePort } from '../../src/dev/processes';
import { DEMO, seedDemo } from '../fakes/bitbucket/seed';
import { serviceEnvFor } from '../fakes/bitbucket/service-env';
import type { Delivery } from '../fakes/bitbucket/delivery';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { connect, ownClientId } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, testConfig } from '../support/service';
import { compiledProject } from '../support/worker-process';
import { startApiProcess, type ApiProcess } from './support/api-process';
import { addBitbucketRepo, apiClient, ourHooks, query, waitUntil } from './support/harness';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';

let fake: FakeBitbucket;
let workers: RunningService;
let api: ApiProcess | null = null;
let temporalProxy: TcpProxy;
let pgProxy: TcpProxy;
let config: ReturnType<typeof testConfig>;

beforeAll(async () => {
  await compiledProject();
  fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', deliveryTimeoutMs: 20_000, clientId: ownClientId() });
  await seedDemo(fake);
  temporalProxy = await startTcpProxy(process.env.TEST_TEMPORAL_ADDRESS!);
  const pgUrl = new URL(process.env.TEST_DATABASE_URL!);
  pgProxy = await startTcpProxy(`${pgUrl.hostname}:${pgUrl.port}`);
  const port = await freePort();
  config = testConfig({
    ...serviceEnvFor(fake, port),
  });
  installWorkerRuntime();
  workers = await startService({ config, log: createLogger('silent'), api: false, workers: true, workflowBundlePath: process.env.TEST_WORKFLOW_BUNDLE });
  api = await startApi();
  fake.setCallbackUrl(`${config.publicUrl}/v1/integrations/bitbucket/callback`);
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await workers?.stop();
  await temporalProxy?.close();
  await pgProxy?.close();
  await fake?.close();
});

/** The API with its Temporal and PostgreSQL connections through the proxies. */
function startApi(): Promise<ApiProcess> {
  const databaseUrl = new URL(process.env.TEST_DATABASE_URL!);
  databaseUrl.host = pgProxy.address;
  return startApiProcess(config, { TEMPORAL_ADDRESS: temporalProxy.address, DATABASE_URL: databaseUrl.toString() });
}

const deliveryRows = (requestUuid: string) => query(`SELECT outcome, dispatched_at IS NOT NULL AS dispatched FROM webhook_deliveries WHERE request_uuid = $1`, [requestUuid]);

describe('kill -9 of the API with a push accepted but not yet signalled', () => {
  let token: string;
  let accountId: string;
  let id: string;

  beforeAll(async () => {
    const svc = apiClient(config.publicUrl);
    ({ token, accountId } = await createAccount(svc));
    expect((await connect(svc, token)).location).toContain('bitbucket=connected');
    const added = await addBitbucketRepo(svc, token, DEMO.repos.hello);
    id = added.body.repo.id;
    await waitForRepo(svc, token, id, isReadyAt(await fake.headOf('demo', 'hello-ts')), 90_000);
    expect(ourHooks(fake, DEMO.repos.hello, accountId)).toHaveLength(1);
  }, 120_000);

  it('after the 202: the restarted API signals the recorded push, and a redelivery is a duplicate', async () => {
    const svc = apiClient(config.publicUrl);
    const head0 = await fake.headOf('demo', 'hello-ts');
    const sha1 = await fake.commit('demo', 'hello-ts', { 'src/after-crash.ts': 'export const afterCrash = true;\n' });
    temporalProxy.blackhole();
    const [first] = await fake.deliverPush('demo', 'hello-ts');
    expect(first.status).toBe(202); // recorded and answered: Bitbucket is done with it
    // The dispatcher is sending the signal (a gRPC request of a few hundred bytes) — and Temporal will never see it.
    await waitUntil('the API to send the signal', () => temporalProxy.swallowed() > 200, 20_000, 20);
    await api!.kill9();
    api = null;
    expect(await deliveryRows(first.requestUuid)).toEqual([{ outcome: 'accepted', dispatched: false }]);
    expect((await query(`SELECT last_indexed_commit FROM repos WHERE id = $1`, [id]))[0].last_indexed_commit).toBe(head0);

    temporalProxy.restore();
    api = await startApi();
    await waitForRepo(svc, token, id, isReadyAt(sha1), 90_000);
    expect(await deliveryRows(first.requestUuid)).toEqual([{ outcome: 'accepted', dispatched: true }]);
    await expectNothingMoreFor(first);
  }, 240_000);

  it('before the answer: Bitbucket sees the API die and its retry with the same X-Request-UUID succeeds', async () => {
    const svc = apiClient(config.publicUrl);
    const head1 = await fake.headOf('demo', 'hello-ts');
    // A push of the indexed head (a no-op for the workflow) warms the API's secret and repo caches,
    // so the next delivery's only PostgreSQL statement is its INSERT.
    const [warm] = await fake.deliverPush('demo', 'hello-ts', { newHash: head1, oldHash: head1 });
    expect(warm.status).toBe(202);
    await waitUntil('the warm-up push to be signalled', async () => (await deliveryRows(warm.requestUuid))[0]?.dispatched === true, 20_000, 20);

    const sha2 = await fake.commit('demo', 'hello-ts', { 'src/after-second-crash.ts': 'export const afterSecondCrash = true;\n' });
    pgProxy.blackhole('replies');
    const delivering = fake.deliverPush('demo', 'hello-ts');
    // The INSERT reached PostgreSQL and committed; the API waits for an answer that never comes.
    await waitUntil('the push to be recorded', async () => (await query(`SELECT 1 FROM webhook_deliveries WHERE repo_id = $1 AND commit = $2`, [id, sha2])).length === 1, 20_000, 20);
    await api!.kill9();
    api = null;
    const [first] = await delivering;
    expect(first.status).not.toBe(202); // Bitbucket saw the API die (and its immediate retries refused)
    expect(first.attempts).toBe(3);
    expect(await deliveryRows(first.requestUuid)).toEqual([{ outcome: 'accepted', dispatched: false }]);

    pgProxy.restore();
    api = await startApi();
    const retried = await fake.redeliver(first);
    expect(retried.requestUuid).toBe(first.requestUuid);
    expect([200, 202]).toContain(retried.status); // already recorded: acknowledged, not processed twice
    await waitForRepo(svc, token, id, isReadyAt(sha2), 90_000);
    expect(await deliveryRows(first.requestUuid)).toEqual([{ outcome: 'accepted', dispatched: true }]);
    await expectNothingMoreFor(first);
  }, 240_000);
});

/** Once processed, the same UUID again is a duplicate: acknowledged, nothing re-indexed. */
async function expectNothingMoreFor(delivery: Delivery): Promise<void> {
  const fetchesBefore = fake.stats().gitFetches;
  const again = await fake.redeliver(delivery);
  expect(again.status).toBe(200); // 200 "duplicate"; a processed push answers 202
  await new Promise((r) => setTimeout(r, 1500));
  expect(fake.stats().gitFetches).toBe(fetchesBefore);
  expect(await query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE request_uuid = $1`, [delivery.requestUuid])).toEqual([{ n: 1 }]);
}

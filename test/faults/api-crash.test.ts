// kill -9 of the API between accepting a webhook delivery and signalling the repo's workflow.
//
// The API runs as a real child process; its Temporal connection goes through a TCP proxy. When
// the push arrives, the proxy swallows every byte the API sends Temporal — the receiver has
// verified the signature, checked X-Request-UUID and is now sending the signal, which never
// reaches Temporal — and the test kills the API right then. Bitbucket's immediate retries find
// the API down. Then the API comes back and Bitbucket retries the delivery (same X-Request-UUID):
// it must be processed (202, not "duplicate"), and the repo must reach the pushed head. A later
// redelivery of the same UUID is then a duplicate, and nothing is indexed twice.
import { createLogger } from '../../src/logger';
import { startService, type RunningService } from '../../src/service';
import { installWorkerRuntime } from '../../src/temporal/runtime';
import { freePort } from '../../src/dev/processes';
import { DEMO, seedDemo } from '../fakes/bitbucket/seed';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { connect } from '../support/bitbucket';
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
let config: ReturnType<typeof testConfig>;

beforeAll(async () => {
  await compiledProject();
  fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', deliveryTimeoutMs: 20_000 });
  await seedDemo(fake);
  temporalProxy = await startTcpProxy(process.env.TEST_TEMPORAL_ADDRESS!);
  const port = await freePort();
  config = testConfig({
    BITBUCKET_APP_CLIENT_ID: fake.clientId,
    BITBUCKET_APP_CLIENT_SECRET: fake.clientSecret,
    BITBUCKET_URL: fake.siteUrl,
    BITBUCKET_API_URL: fake.apiUrl,
    CODEWAZE_PUBLIC_URL: `http://127.0.0.1:${port}`,
    PORT: String(port),
    GIT_ALLOW_PRIVATE_HOSTS: 'true',
    REPO_PUSH_DEBOUNCE_MS: '300',
  });
  installWorkerRuntime();
  workers = await startService({ config, log: createLogger('silent'), api: false, workers: true, workflowBundlePath: process.env.TEST_WORKFLOW_BUNDLE });
  api = await startApiProcess(config, { TEMPORAL_ADDRESS: temporalProxy.address });
  fake.setCallbackUrl(`${config.publicUrl}/v1/integrations/bitbucket/callback`);
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await workers?.stop();
  await temporalProxy?.close();
  await fake?.close();
});

it('a push accepted but not yet signalled when the API dies is processed on the retry with the same X-Request-UUID', async () => {
  const svc = apiClient(config.publicUrl);
  const { token, accountId } = await createAccount(svc);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  const added = await addBitbucketRepo(svc, token, DEMO.repos.hello);
  const id = added.body.repo.id;
  const head0 = await fake.headOf('demo', 'hello-ts');
  await waitForRepo(svc, token, id, isReadyAt(head0), 90_000);
  expect(ourHooks(fake, DEMO.repos.hello, accountId)).toHaveLength(1);

  const sha1 = await fake.commit('demo', 'hello-ts', { 'src/after-crash.ts': 'export const afterCrash = true;\n' });
  temporalProxy.blackhole();
  const delivering = fake.deliverPush('demo', 'hello-ts');
  // The receiver is sending the signal (a gRPC request of a few hundred bytes) — and Temporal will never see it.
  await waitUntil('the API to send the signal', () => temporalProxy.swallowed() > 200, 20_000, 20);
  await api!.kill9();
  api = null;
  const [first] = await delivering;
  expect(first.status).not.toBe(202); // Bitbucket saw the API die (and its immediate retries refused)
  expect(first.attempts).toBe(3);
  // Nothing was recorded: the crash came before the delivery row, so the retry is not a duplicate.
  expect(await query(`SELECT outcome FROM webhook_deliveries WHERE request_uuid = $1`, [first.requestUuid])).toEqual([]);
  expect((await query(`SELECT last_indexed_commit FROM repos WHERE id = $1`, [id]))[0].last_indexed_commit).toBe(head0);

  temporalProxy.restore();
  api = await startApiProcess(config, { TEMPORAL_ADDRESS: temporalProxy.address });
  const retried = await fake.redeliver(first);
  expect(retried.status).toBe(202);
  expect(retried.requestUuid).toBe(first.requestUuid);
  await waitForRepo(svc, token, id, isReadyAt(sha1), 90_000);
  expect(await query(`SELECT outcome FROM webhook_deliveries WHERE request_uuid = $1`, [first.requestUuid])).toEqual([{ outcome: 'accepted' }]);
  const fetchesAfter = fake.stats().gitFetches;

  // Once processed, the same UUID again is a duplicate: acknowledged, nothing re-indexed.
  const again = await fake.redeliver(first);
  expect(again.status).toBe(200);
  await new Promise((r) => setTimeout(r, 1500));
  expect(fake.stats().gitFetches).toBe(fetchesAfter);
  expect(ourHooks(fake, DEMO.repos.hello, accountId)).toHaveLength(1);
}, 240_000);

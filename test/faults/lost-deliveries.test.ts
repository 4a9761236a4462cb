// kill -9 of the whole service (API and worker, real processes) while a push happens: every one of
// Bitbucket's delivery attempts fails, so nothing will ever announce the commit. The restarted
// service's reconcile finds it within REPO_RECONCILE_INTERVAL (CONTRACT §11) and indexes it, once.
import { freePort } from '../../src/dev/processes';
import { DEMO, seedDemo } from '../fakes/bitbucket/seed';
import { serviceEnvFor } from '../fakes/bitbucket/service-env';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { connect, ownClientId } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, testConfig } from '../support/service';
import { compiledProject, startWorkerProcess, type ServiceProcess } from '../support/worker-process';
import { startApiProcess } from './support/api-process';
import { addBitbucketRepo, apiClient, ourHooks, query } from './support/harness';

const INTERVAL_S = 3;

let fake: FakeBitbucket;
let config: ReturnType<typeof testConfig>;
let processes: ServiceProcess[] = [];

const startAll = async () => {
  processes = [await startWorkerProcess(config), await startApiProcess(config)];
};

beforeAll(async () => {
  await compiledProject();
  fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', clientId: ownClientId() });
  await seedDemo(fake);
  const port = await freePort();
  config = testConfig({
    ...serviceEnvFor(fake, port),
    REPO_RECONCILE_INTERVAL: `${INTERVAL_S}s`,
  });
  fake.setCallbackUrl(`${config.publicUrl}/v1/integrations/bitbucket/callback`);
  await startAll();
}, 180_000);

afterAll(async () => {
  for (const p of processes) await p.stop();
  await fake?.close();
});

it('a push made while the service is down (every delivery lost) is indexed after the restart', async () => {
  const svc = apiClient(config.publicUrl);
  const { token, accountId } = await createAccount(svc);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  const added = await addBitbucketRepo(svc, token, DEMO.repos.api);
  const id = added.body.repo.id;
  await waitForRepo(svc, token, id, isReadyAt(await fake.headOf('acme', 'api')), 90_000);
  expect(ourHooks(fake, DEMO.repos.api, accountId)).toHaveLength(1);

  for (const p of processes) await p.kill9();
  const sha = await fake.commit('acme', 'api', { 'src/while-down.ts': 'export const whileDown = true;\n' });
  const deliveries = (await fake.deliverPush('acme', 'api')).filter((d) => d.url.endsWith(accountId));
  expect(deliveries.map((d) => [d.status, d.attempts])).toEqual([['NETWORK ERROR', 3]]); // Bitbucket gave up

  const restarted = Date.now();
  await startAll();
  const packsBefore = fake.stats().gitPackFetches;
  await waitForRepo(svc, token, id, isReadyAt(sha), (INTERVAL_S + 60) * 1000);
  expect(Date.now() - restarted).toBeLessThan((INTERVAL_S + 60) * 1000);
  expect(fake.stats().gitPackFetches - packsBefore).toBe(1); // fetched once, by the reconcile
  expect(await query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE repo_id = $1 AND commit = $2`, [id, sha])).toEqual([{ n: 0 }]);
}, 240_000);

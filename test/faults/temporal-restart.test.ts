// The Temporal server restarted while repos index: a dedicated dev server (its own SQLite file)
// is stopped and started again on the same port and file in the middle of the run. The service
// (API and workers) keeps running; every repo ends ready at its head with one webhook, and a push
// after the restart is processed.
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/dev/processes';
import { startTemporalDevServer, type TemporalDevServer } from '../../src/dev/temporal-server';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt } from '../support/repos';
import { createAccount, type TestService } from '../support/service';
import { addBitbucketRepo, manyFiles, ourHooks, sleep, startFaultStack, waitForRepoThroughOutage, waitUntil } from './support/harness';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let temporal: TemporalDevServer | null = null;
let serverOptions: Parameters<typeof startTemporalDevServer>[0];

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(process.env.TEST_TMP_DIR!, 'temporal-restart-'));
  serverOptions = {
    cliPath: process.env.TEST_TEMPORAL_CLI!,
    port: await freePort(),
    uiPort: null,
    dbFile: path.join(dir, 'temporal.db'),
    logFile: path.join(dir, 'temporal.log'),
  };
  temporal = await startTemporalDevServer(serverOptions);
  ({ fake, svc, stop } = await startFaultStack({ env: { TEMPORAL_ADDRESS: temporal.address } }));
}, 180_000);
afterAll(async () => {
  await stop?.();
  await temporal?.stop();
});

it('repos indexing across a Temporal restart (same db file) all end ready, with one webhook each', async () => {
  const { token, accountId } = await createAccount(svc);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  await fake.addRepo({ workspace: 'demo', slug: 'big-t', files: manyFiles(1500), owner: DEMO.user });
  const names = ['demo/big-t', DEMO.repos.hello, DEMO.repos.api, DEMO.repos.worker];
  const ids: string[] = [];
  for (const name of names) {
    const res = await addBitbucketRepo(svc, token, name);
    expect(res.status).toBe(202);
    ids.push(res.body.repo.id);
  }
  await waitUntil('a repo indexing', async () => (await svc.request('GET', '/v1/repos', { token })).body.repos.some((r: any) => r.status === 'indexing'), 60_000, 50);

  const pid = temporal!.pid;
  await temporal!.stop();
  temporal = null;
  expect((await svc.request('GET', '/readyz')).status).toBe(503);
  await sleep(2_000);
  temporal = await startTemporalDevServer(serverOptions);
  expect(temporal.pid).not.toBe(pid);

  for (const [i, name] of names.entries()) {
    const [ws, slug] = name.split('/');
    const { repo } = await waitForRepoThroughOutage(svc, token, ids[i], isReadyAt(await fake.headOf(ws, slug)), 180_000);
    expect([name, repo.webhook.status, repo.error]).toEqual([name, 'active', null]);
    expect([name, ourHooks(fake, name, accountId).length]).toEqual([name, 1]);
  }
  expect((await svc.request('GET', '/readyz')).status).toBe(200);
  expect((await svc.request('GET', '/v1/repos', { token })).body.repos).toHaveLength(names.length);

  // The workflows survived the restart: a push is signalled to the same workflow and processed.
  const sha = await fake.commit('demo', 'hello-ts', { 'src/after-restart.ts': 'export const x = 1;\n' });
  const [delivery] = await fake.deliverPush('demo', 'hello-ts');
  expect(delivery.status).toBe(202);
  await waitForRepoThroughOutage(svc, token, ids[1], isReadyAt(sha), 60_000);
}, 400_000);

// kill -9 of the worker in the middle of a clone: after a restart the repo ends ready, with one
// webhook. The worker is the real compiled process; the API runs in this test.
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';
import { compiledProject, startWorkerProcess } from '../support/worker-process';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;

beforeAll(async () => {
  await compiledProject();
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, workers: false }));
}, 120_000);
afterAll(() => stop?.());

it('recovers from kill -9 mid-clone: ready at the head, exactly one webhook', async () => {
  const worker = await startWorkerProcess(svc.config);
  const { token, accountId } = await createAccount(svc);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');

  // The first clone hangs on the pack transfer: the worker is killed right there.
  fake.injectFault({ method: 'POST', path: /git-upload-pack$/, hang: true, times: 1 });
  const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: DEMO.repos.api } });
  await waitForRepo(svc, token, res.body.repo.id, (r) => r.status === 'indexing', 60_000);
  const deadline = Date.now() + 20_000;
  while (fake.stats().faultsServed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(fake.stats().faultsServed).toBe(1);
  await worker.kill9();
  fake.clearFaults();

  const restarted = await startWorkerProcess(svc.config);
  try {
    await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf('acme', 'api')), 120_000);
    expect(fake.hooksOf('acme', 'api').filter((h) => h.url.endsWith(accountId))).toHaveLength(1);
  } finally {
    await restarted.stop();
  }
}, 180_000);

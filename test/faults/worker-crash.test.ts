// kill -9 of the worker (the real compiled process) at two known points, then a fresh worker:
//  - mid-index: the clone is done, some batches of the index are committed (not all), and the
//    worker is blocked inside the next batch's transaction (the test holds the generation's row);
//  - mid-webhook-creation: Bitbucket has created the hook, and the worker is blocked recording it.
// (kill -9 mid-clone is test/e2e/worker-crash.test.ts.) Each ends ready at the head with exactly
// one webhook and a complete index. The fault suite's workflow bundle shortens activity timeouts
// so the lost attempt is noticed in seconds.
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';
import { compiledProject, startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { faultWorkflowBundle } from './support/fault-bundle';
import { addBitbucketRepo, holdRepoRow, holdRow, manyFiles, ourHooks, query, startFaultStack, waitUntil } from './support/harness';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let worker: WorkerProcess | null = null;
let bundle: string;
let token: string;
let accountId: string;

const startWorker = () => startWorkerProcess(svc.config, { WORKFLOW_BUNDLE_PATH: bundle });

beforeAll(async () => {
  [, bundle] = await Promise.all([compiledProject(), faultWorkflowBundle()]);
  ({ fake, svc, stop } = await startFaultStack({ workers: false }));
  worker = await startWorker();
  ({ token, accountId } = await createAccount(svc));
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
}, 180_000);
afterAll(async () => {
  await worker?.stop();
  await stop?.();
});

it('kill -9 mid-index: the new worker finishes the index; ready at the head, index complete, one webhook', async () => {
  const FILES = 8000;
  await fake.addRepo({ workspace: 'demo', slug: 'big', files: manyFiles(FILES), owner: DEMO.user });
  const head = await fake.headOf('demo', 'big');
  const res = await addBitbucketRepo(svc, token, 'demo/big');
  expect(res.status).toBe(202);
  const id = res.body.repo.id;
  await waitForRepo(svc, token, id, (r) => r.status === 'indexing', 60_000);
  // Once the first batch of the index is committed, hold the generation's row: the next batch
  // blocks inside its transaction, with earlier batches committed and the generation not active.
  const generation = await waitUntil(
    'the first index batch committed',
    async () => (await query(`SELECT id, files_done FROM index_generations WHERE repo_id = $1 AND state = 'building'`, [id])).find((g) => g.files_done > 0),
    90_000,
    10,
  );
  const hold = await holdRow('index_generations', generation.id);
  try {
    await waitUntil('the worker blocked inside an index batch', async () => (await hold.waiters()).length > 0, 60_000);
    const building = await query(`SELECT files_done, files_total FROM index_generations WHERE repo_id = $1 AND state = 'building'`, [id]);
    expect(building).toHaveLength(1);
    expect(building[0].files_done).toBeGreaterThan(0);
    expect(building[0].files_done).toBeLessThan(FILES);
    expect((await query(`SELECT count(*)::int AS n FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [id]))[0].n).toBe(0);
    await worker!.kill9();
    worker = null;
  } finally {
    await hold.release();
  }

  worker = await startWorker();
  const { repo } = await waitForRepo(svc, token, id, isReadyAt(head), 150_000);
  expect(repo.error).toBeNull();
  expect(repo.webhook).toEqual({ status: 'active', error: null });
  expect(ourHooks(fake, 'demo/big', accountId)).toHaveLength(1);

  // The index is complete: one active generation at the head with every file, and the last file is searchable.
  const active = await query(`SELECT commit, file_count FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [id]);
  expect(active).toEqual([{ commit: head, file_count: FILES }]);
  expect((await query(`SELECT count(*)::int AS n FROM index_entries e JOIN index_generations g ON g.id = e.generation_id WHERE g.repo_id = $1 AND g.state = 'active' AND e.type = 'file'`, [id]))[0].n).toBe(FILES);
  const last = String(FILES - 1).padStart(5, '0');
  const search = await svc.request('GET', `/v1/repos/${id}/search?q=needle_${last}`, { token });
  expect(search.status).toBe(200);
  expect(search.body.results.map((r: any) => r.path)).toEqual([`src/gen/m${Math.floor((FILES - 1) / 100)}/file_${last}.ts`]);
  const tree = await svc.request('GET', `/v1/repos/${id}/tree?path=src/gen`, { token });
  expect(tree.body.entries).toHaveLength(Math.ceil(FILES / 100));
}, 300_000);

it('kill -9 mid-webhook-creation (created on Bitbucket, not yet recorded): exactly one webhook, ready', async () => {
  await fake.addRepo({ workspace: 'demo', slug: 'hooked', files: { 'README.md': '# hooked\n', 'src/a.ts': 'export const a = 1;\n' }, owner: DEMO.user });
  const head = await fake.headOf('demo', 'hooked');
  // The hooks list hangs: the worker is inside ensureWebhook, before any POST.
  const served = fake.stats().faultsServed;
  fake.injectFault({ method: 'GET', path: '/2.0/repositories/demo/hooked/hooks', hang: true, times: 1 });
  const res = await addBitbucketRepo(svc, token, 'demo/hooked');
  const id = res.body.repo.id;
  await waitUntil('the worker to reach the hooks list', () => fake.stats().faultsServed > served, 60_000);

  const hold = await holdRepoRow(id);
  try {
    fake.clearFaults(); // the list is retried, the hook is created, then recording it blocks on the held row
    await waitUntil('the hook created and the worker blocked recording it', async () => ourHooks(fake, 'demo/hooked', accountId).length === 1 && (await hold.waiters()).length > 0, 60_000);
    expect((await query(`SELECT webhook_status FROM repos WHERE id = $1`, [id]))[0].webhook_status).not.toBe('active');
    await worker!.kill9();
    worker = null;
  } finally {
    await hold.release();
  }

  worker = await startWorker();
  const { repo } = await waitForRepo(svc, token, id, isReadyAt(head), 120_000);
  expect(repo.webhook).toEqual({ status: 'active', error: null });
  const hooks = ourHooks(fake, 'demo/hooked', accountId);
  expect(hooks).toHaveLength(1);
  expect((await query(`SELECT webhook_uuid FROM repos WHERE id = $1`, [id]))[0].webhook_uuid).toBe(hooks[0].uuid);
}, 240_000);

// Late and out-of-order push deliveries: Bitbucket may deliver the push of an older head after
// the newer one was indexed (a slow or retried delivery). An older head must never replace a
// newer index: lastIndexedCommit only moves forward, whatever order the deliveries come in.
import { connect, type FakeBitbucket } from '../support/bitbucket';
import { getRepo, isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';
import { DEMO } from '../fakes/bitbucket/seed';
import { addBitbucketRepo, query, sampleWhile, sleep, startFaultStack } from './support/harness';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let token: string;
let id: string;

beforeAll(async () => {
  ({ fake, svc, stop } = await startFaultStack());
  ({ token } = await createAccount(svc));
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  const res = await addBitbucketRepo(svc, token, DEMO.repos.hello);
  id = res.body.repo.id;
  await waitForRepo(svc, token, id, isReadyAt(await fake.headOf('demo', 'hello-ts')), 90_000);
}, 180_000);
afterAll(() => stop?.());

const indexed = async () => (await getRepo(svc, token, id)).lastIndexedCommit as string;
const activeCommit = async () => (await query(`SELECT commit FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [id]))[0]?.commit;

it('the push of an older head, delivered after the newer head was indexed, does not replace it', async () => {
  const c0 = await fake.headOf('demo', 'hello-ts');
  const c1 = await fake.commit('demo', 'hello-ts', { 'src/one.ts': 'export const one = 1;\n' });
  expect((await fake.deliverPush('demo', 'hello-ts', { oldHash: c0, newHash: c1 }))[0].status).toBe(202);
  await waitForRepo(svc, token, id, isReadyAt(c1));
  const c2 = await fake.commit('demo', 'hello-ts', { 'src/two.ts': 'export const two = 2;\n' });
  expect((await fake.deliverPush('demo', 'hello-ts', { oldHash: c1, newHash: c2 }))[0].status).toBe(202);
  await waitForRepo(svc, token, id, isReadyAt(c2));

  // The c0 → c1 push arrives again, late (a new delivery: Bitbucket's late retry of a timed-out one).
  const { samples } = await sampleWhile(indexed, async () => {
    const [late] = await fake.deliverPush('demo', 'hello-ts', { oldHash: c0, newHash: c1 });
    expect(late.status).toBe(202);
    await sleep(4_000);
  });
  expect(new Set(samples)).toEqual(new Set([c2]));
  expect(await waitForRepo(svc, token, id, isReadyAt(c2))).toBeTruthy();
  expect(await activeCommit()).toBe(c2);
  const file = await svc.request('GET', `/v1/repos/${id}/file?path=src/two.ts`, { token });
  expect([file.status, file.body.commit]).toEqual([200, c2]);
});

it('deliveries arriving newest first (c4 then c3) end at c4, and c3 is never the index', async () => {
  const c2 = await indexed();
  const c3 = await fake.commit('demo', 'hello-ts', { 'src/three.ts': 'export const three = 3;\n' });
  const c4 = await fake.commit('demo', 'hello-ts', { 'src/four.ts': 'export const four = 4;\n' });
  const { samples } = await sampleWhile(indexed, async () => {
    expect((await fake.deliverPush('demo', 'hello-ts', { oldHash: c3, newHash: c4 }))[0].status).toBe(202);
    expect((await fake.deliverPush('demo', 'hello-ts', { oldHash: c2, newHash: c3 }))[0].status).toBe(202);
    await waitForRepo(svc, token, id, isReadyAt(c4));
    await sleep(3_000);
  });
  expect(samples).not.toContain(c3);
  // Only ever forward: c2 … then c4, and c4 to the end.
  const firstC4 = samples.indexOf(c4);
  expect(firstC4).toBeGreaterThanOrEqual(0);
  expect(samples.slice(firstC4).every((s) => s === c4)).toBe(true);
  expect(samples.slice(0, firstC4).every((s) => s === c2)).toBe(true);
  expect(await activeCommit()).toBe(c4);
});

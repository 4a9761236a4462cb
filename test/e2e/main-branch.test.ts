// The main branch follows Bitbucket (CONTRACT §11): when a repo's main branch changes (master →
// main), a push to the new main branch or a re-index moves the index to that branch's head. The
// reconcile is off here (REPO_RECONCILE_INTERVAL=0) so that only those paths can do it; the
// reconcile path is in stay-true.test.ts.
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { getRepo, isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let token: string;
let accountId: string;

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, env: { REPO_RECONCILE_INTERVAL: '0' } }));
  ({ token, accountId } = await createAccount(svc));
  fake.setCurrentUser(DEMO.user);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
});
afterAll(() => stop?.());

/** A repo whose main branch is master, added and indexed; then `main` is made from it and becomes the main branch on Bitbucket. */
async function renamedRepo(slug: string) {
  await fake.addRepo({ workspace: 'demo', slug, owner: DEMO.user, mainbranch: 'master', files: { 'README.md': `# ${slug}\n` } });
  const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: `demo/${slug}` } });
  const { repo } = await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf('demo', slug)));
  expect(repo.defaultBranch).toBe('master');
  const mainHead = await fake.commit('demo', slug, { 'src/new-main.ts': 'export const onMain = true;\n' }, { branch: 'main' });
  await fake.setMainBranch('demo', slug, 'main');
  return { repo, mainHead };
}

it('a push to the new main branch moves the index to its head, and the main branch follows', async () => {
  const { repo, mainHead } = await renamedRepo('renamed-by-push');
  const [push] = (await fake.deliverPush('demo', 'renamed-by-push', { branch: 'main' })).filter((d) => d.url.endsWith(accountId));
  expect(push.status).toBe(202);
  const { repo: followed } = await waitForRepo(svc, token, repo.id, isReadyAt(mainHead));
  expect(followed.defaultBranch).toBe('main');
  expect((await svc.request('GET', `/v1/repos/${repo.id}/file?path=src/new-main.ts`, { token })).status).toBe(200);

  // The old branch goes; pushes to main are now plain main-branch pushes.
  await fake.deleteBranch('demo', 'renamed-by-push', 'master');
  await fake.deliverPush('demo', 'renamed-by-push', { branch: 'master', newHash: null });
  const next = await fake.commit('demo', 'renamed-by-push', { 'src/later.ts': 'export const later = 1;\n' });
  await fake.deliverPush('demo', 'renamed-by-push');
  await waitForRepo(svc, token, repo.id, isReadyAt(next));
});

it('a re-index re-reads the main branch first', async () => {
  const { repo, mainHead } = await renamedRepo('renamed-by-reindex');
  expect((await svc.request('POST', `/v1/repos/${repo.id}/reindex`, { token })).status).toBe(202);
  const { repo: followed } = await waitForRepo(svc, token, repo.id, isReadyAt(mainHead));
  expect(followed.defaultBranch).toBe('main');
});

it('a push to another branch while the main branch is unchanged fetches nothing and changes nothing', async () => {
  await fake.addRepo({ workspace: 'demo', slug: 'steady', owner: DEMO.user, files: { 'README.md': '# steady\n' } });
  const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: 'demo/steady' } });
  const { repo } = await waitForRepo(svc, token, res.body.repo.id, isReadyAt(await fake.headOf('demo', 'steady')));
  await new Promise((r) => setTimeout(r, 300));
  const before = fake.stats();
  await fake.commit('demo', 'steady', { 'wip.ts': 'export {};\n' }, { branch: 'wip' });
  await fake.deliverPush('demo', 'steady', { branch: 'wip' });
  await new Promise((r) => setTimeout(r, 2000));
  const after = fake.stats();
  expect(after.gitPackFetches).toBe(before.gitPackFetches);
  expect(after.gitFetches - before.gitFetches).toBe(1); // one ref listing answered the hint
  expect(await getRepo(svc, token, repo.id)).toEqual(expect.objectContaining({ defaultBranch: 'main', lastIndexedCommit: repo.lastIndexedCommit, lastIndexedAt: repo.lastIndexedAt }));
});

// Hostile repositories (issue 20): MAX_REPO_SIZE end to end. The real service (API, workers,
// Temporal, PostgreSQL) with MAX_REPO_SIZE=1m against the fake Bitbucket, whose repos are served
// by the real `git http-backend` and report their real size as Bitbucket does. A repo of a few MB
// of random data ends `failed` with `too_large` naming the limit, leaves no clone on disk, and
// does not stop a small repo on the same service from being indexed and served.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { commitRandomFiles, MiB } from '../support/fast-import';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';

jest.setTimeout(120_000);

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;

const RANDOM = { 'assets/a.bin': MiB, 'assets/b.bin': MiB, 'assets/c.bin': MiB };
const LIMIT_NAMED = /MAX_REPO_SIZE \(1 MB\)/;

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ env: { MAX_REPO_SIZE: '1m' } }));
  // Public, so a pasted URL clones it anonymously; the private one is read through the integration.
  for (const [workspace, slug, isPrivate] of [['oss-lab', 'huge', false], ['acme', 'huge', true], ['oss-lab', 'growing', false]] as const) {
    await fake.addRepo({ workspace, slug, is_private: isPrivate, owner: DEMO.user, files: { 'README.md': `# ${slug}\n`, 'src/main.ts': 'export const main = 1;\n' } });
  }
  await commitRandomFiles(fake.gitDirOf('oss-lab', 'huge'), 'main', RANDOM);
  await commitRandomFiles(fake.gitDirOf('acme', 'huge'), 'main', RANDOM);
});
afterAll(() => stop?.());

/** Everything under DATA_DIR/repos that belongs to this repo: its clone and any half-written one. */
function clonesOf(repoId: string): string[] {
  const dir = path.join(svc.config.dataDir, 'repos');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`${repoId}.git`)) : [];
}

const addUrl = (token: string, url: string) => svc.request('POST', '/v1/repos', { token, body: { url } });
const failed = (repo: any) => repo.status === 'failed';

describe('MAX_REPO_SIZE', () => {
  it('stops a pasted repo past the limit: failed with too_large naming it, no clone left, a small repo still indexed and served', async () => {
    const { token } = await createAccount(svc);
    const huge = await addUrl(token, `${fake.siteUrl}/oss-lab/huge.git`);
    const small = await addUrl(token, `${fake.siteUrl}/oss-lab/go-tools.git`);
    expect([huge.status, small.status]).toEqual([202, 202]);

    const { repo } = await waitForRepo(svc, token, huge.body.repo.id, failed);
    expect(repo.error.code).toBe('too_large');
    expect(repo.error.message).toMatch(LIMIT_NAMED);
    expect(repo.error.message).toMatch(/raise MAX_REPO_SIZE/i);
    expect(repo.lastIndexedCommit).toBeNull();
    expect(clonesOf(repo.id)).toEqual([]);
    expect((await svc.request('GET', `/v1/repos/${repo.id}/tree?path=`, { token })).body.error.code).toBe('not_indexed');

    const ready = await waitForRepo(svc, token, small.body.repo.id, isReadyAt(await fake.headOf('oss-lab', 'go-tools')));
    expect(ready.repo.error).toBeNull();
    const tree = await svc.request('GET', `/v1/repos/${small.body.repo.id}/tree?path=`, { token });
    expect(tree.status).toBe(200);
    expect(tree.body.entries.length).toBeGreaterThan(0);
  });

  it("fails a Bitbucket repo Bitbucket reports over the limit before cloning it", async () => {
    const { token } = await createAccount(svc);
    fake.setCurrentUser(DEMO.user);
    expect((await connect(svc, token)).location).toContain('bitbucket=connected');
    fake.resetStats();
    const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: 'acme/huge' } });
    expect(res.status).toBe(202);
    const { repo } = await waitForRepo(svc, token, res.body.repo.id, failed);
    expect(repo.error.code).toBe('too_large');
    expect(repo.error.message).toMatch(LIMIT_NAMED);
    expect(repo.error.message).toMatch(/reports 3(\.\d)? MB, so it was not cloned/);
    // No pack was ever asked for: the reported size was enough.
    expect(fake.stats().gitPackFetches).toBe(0);
    expect(clonesOf(repo.id)).toEqual([]);
  });

  it('stops a fetch that would grow an indexed repo past the limit: failed with too_large, still serving its last index', async () => {
    const { token } = await createAccount(svc);
    const res = await addUrl(token, `${fake.siteUrl}/oss-lab/growing.git`);
    const first = await fake.headOf('oss-lab', 'growing');
    await waitForRepo(svc, token, res.body.repo.id, isReadyAt(first));
    const id = res.body.repo.id;

    await commitRandomFiles(fake.gitDirOf('oss-lab', 'growing'), 'main', RANDOM);
    expect((await svc.request('POST', `/v1/repos/${id}/reindex`, { token })).status).toBe(202);
    const { repo } = await waitForRepo(svc, token, id, failed);
    expect(repo.error.code).toBe('too_large');
    expect(repo.error.message).toMatch(LIMIT_NAMED);
    expect(repo.lastIndexedCommit).toBe(first);

    // The last good index is still served, and the clone is the good one, with nothing half-written.
    const file = await svc.request('GET', `/v1/repos/${id}/file?path=src/main.ts`, { token });
    expect([file.status, file.body.commit, file.body.content]).toEqual([200, first, 'export const main = 1;\n']);
    expect(clonesOf(id)).toEqual([`${id}.git`]);
    const packDir = path.join(svc.config.dataDir, 'repos', `${id}.git`, 'objects', 'pack');
    expect(readdirSync(packDir).filter((f) => !/^pack-[0-9a-f]+\.(pack|idx|rev)$/.test(f))).toEqual([]);
  });
});

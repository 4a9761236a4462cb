// MAX_REPO_SIZE at the git level: a clone or a fetch that would grow the clone past the limit is
// stopped (git killed while it transfers, or the finished transfer undone), leaves nothing
// half-written, and a fetch leaves the previous clone as it was. Against the fake Bitbucket's real
// `git http-backend`, with repos of random (incompressible) data.
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dirBytes } from '../../src/git/disk-usage';
import { GitSyncError, repoDir, syncRepo, type SyncOptions } from '../../src/git/repo-sync';
import * as runGitModule from '../../src/git/run-git';
import { runGit } from '../../src/git/run-git';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { commitRandomFiles, MiB } from '../support/fast-import';
import { syncError } from './sync-error';

jest.setTimeout(60_000);

// With `watch` off, git runs without its size watch: only the check after the transfer can catch
// the limit (as when a fast transfer ends between two measurements).
let watch = true;
const realExecGit = runGitModule.execGit;
jest.spyOn(runGitModule, 'execGit').mockImplementation((args, opts) => realExecGit(args, watch ? opts : { ...opts, sizeLimit: undefined }));

let fake: FakeBitbucket;
let tmp: string;
let n = 0;
const newDir = () => repoDir(tmp, `r${++n}`);
const url = (slug: string) => `${fake.siteUrl}/acme/${slug}.git`;
const local = (dir: string, ...args: string[]) => runGit([`--git-dir=${dir}`, ...args]).then((s) => s.trim());
const leftovers = (dir: string) => readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`${path.basename(dir)}.tmp-`));


/** A public repo with one small commit, then `random` bytes of random files on top (if any). */
async function repoOf(slug: string, random: Record<string, number> = {}): Promise<string> {
  await fake.addRepo({ workspace: 'acme', slug, is_private: false, files: { 'README.md': `# ${slug}\n` } });
  if (Object.keys(random).length) await commitRandomFiles(fake.gitDirOf('acme', slug), 'main', random);
  return url(slug);
}

/**
 * Syncs while sampling the size of the clone (and its temporary siblings) every few ms: how far
 * past the limit did it get (`peak`), and how long after it first passed it was git stopped (`afterMs`)?
 */
async function syncSampled(opts: SyncOptions): Promise<{ err: GitSyncError; ms: number; peak: number; afterMs: number | null }> {
  let peak = 0;
  let firstOver: number | null = null;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const names = readdirSync(path.dirname(opts.dir)).filter((f) => f === path.basename(opts.dir) || f.startsWith(`${path.basename(opts.dir)}.tmp-`));
      let total = 0;
      for (const f of names) total += await dirBytes(path.join(path.dirname(opts.dir), f));
      peak = Math.max(peak, total);
      if (firstOver === null && total > (opts.maxSizeBytes ?? 0)) firstOver = Date.now();
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const started = Date.now();
  const err = await syncError(syncRepo(opts));
  const ended = Date.now();
  sampling = false;
  await sampler;
  return { err, ms: ended - started, peak, afterMs: firstOver === null ? null : ended - firstOver };
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lettuce-size-'));
  fake = await startFakeBitbucket();
  fake.addUser({ nickname: 'alice' });
  fake.addWorkspace({ slug: 'acme', members: ['alice'] });
  await repoOf('huge', { 'a.bin': MiB, 'b.bin': MiB, 'c.bin': MiB });
});

afterAll(async () => {
  await fake?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('clone', () => {
  it('stops a clone past the limit, names the limit, and leaves no clone behind', async () => {
    const u = url('huge');
    const dir = newDir();
    const err = await syncError(syncRepo({ dir, url: u, timeoutMs: 30_000, maxSizeBytes: MiB }));
    expect(err.code).toBe('too_large');
    expect(err.message).toBe('The repository is larger than MAX_REPO_SIZE (1 MB): its clone was stopped and removed. Raise MAX_REPO_SIZE to index it.');
    expect(existsSync(dir)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    // 0 = no limit; a limit it fits under is no obstacle either.
    expect((await syncRepo({ dir, url: u, timeoutMs: 30_000, maxSizeBytes: 0 })).fresh).toBe(true);
    const fits = newDir();
    expect((await syncRepo({ dir: fits, url: u, timeoutMs: 30_000, maxSizeBytes: 8 * MiB })).fresh).toBe(true);
    expect(await dirBytes(fits)).toBeGreaterThan(3 * MiB);
  });

  it('removes a clone whose transfer ended before a measurement caught it', async () => {
    watch = false;
    try {
      const dir = newDir();
      const err = await syncError(syncRepo({ dir, url: url('huge'), timeoutMs: 30_000, maxSizeBytes: MiB }));
      expect(err.code).toBe('too_large');
      expect(existsSync(dir)).toBe(false);
      expect(leftovers(dir)).toEqual([]);
    } finally {
      watch = true;
    }
  });

  it('kills git while it transfers a much larger repo, soon after the limit', async () => {
    const u = await repoOf('bigger', Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`blob-${i}.bin`, 4 * MiB])));
    const dir = newDir();
    const { err, ms, peak, afterMs } = await syncSampled({ dir, url: u, timeoutMs: 30_000, maxSizeBytes: 4 * MiB });
    expect(err.code).toBe('too_large');
    expect(existsSync(dir)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    // Stopped well before the 24 MB were on disk.
    expect(peak).toBeLessThan(20 * MiB);
    if (process.env.LETTUCE_SIZE_FIGURES) process.stderr.write(`clone of 24 MiB, limit 4 MiB: failed after ${ms} ms, ${afterMs} ms after passing the limit, peak ${(peak / MiB).toFixed(1)} MiB on disk\n`);
  });

  it("fails before any transfer when the host's reported size is over the limit", async () => {
    const dir = newDir();
    // Nothing listens on port 1: had git run, this would be clone_failed.
    const err = await syncError(syncRepo({ dir, url: 'http://127.0.0.1:1/acme/x.git', timeoutMs: 10_000, maxSizeBytes: MiB, reportedSizeBytes: 3 * MiB + 1 }));
    expect(err.code).toBe('too_large');
    expect(err.message).toBe('The repository is larger than MAX_REPO_SIZE (1 MB): its host reports 3 MB, so it was not cloned. Raise MAX_REPO_SIZE to index it.');
    // A reported size under the limit, or no limit, lets git try.
    expect((await syncError(syncRepo({ dir, url: 'http://127.0.0.1:1/acme/x.git', timeoutMs: 10_000, maxSizeBytes: 8 * MiB, reportedSizeBytes: 3 * MiB }))).code).toBe('clone_failed');
    expect((await syncError(syncRepo({ dir, url: 'http://127.0.0.1:1/acme/x.git', timeoutMs: 10_000, maxSizeBytes: 0, reportedSizeBytes: 3 * MiB }))).code).toBe('clone_failed');
  });
});

describe('fetch', () => {
  /** What must not change when a fetch is stopped: refs, shallow file, pack files. */
  async function state(dir: string) {
    return {
      head: await local(dir, 'rev-parse', 'refs/heads/main'),
      shallow: await fs.readFile(path.join(dir, 'shallow'), 'utf8').catch(() => null),
      packs: readdirSync(path.join(dir, 'objects', 'pack')).sort(),
    };
  }

  it.each([
    ['ended before a measurement caught it (undone afterwards)', { 'grown.bin': 3 * MiB }, 1, false],
    ['is still transferring (git killed)', Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`grown-${i}.bin`, 4 * MiB])), 4, true],
  ])('stops a fetch past the limit that %s and keeps the previous clone usable', async (_what, random, limitMiB, watching) => {
    const slug = `growing-${limitMiB}`;
    const u = await repoOf(slug);
    const dir = newDir();
    const first = await syncRepo({ dir, url: u, timeoutMs: 30_000, maxSizeBytes: limitMiB * MiB });
    const before = await state(dir);
    const grown = await commitRandomFiles(fake.gitDirOf('acme', slug), 'main', random);

    watch = watching;
    const { err, ms, peak, afterMs } = await syncSampled({ dir, url: u, timeoutMs: 30_000, maxSizeBytes: limitMiB * MiB }).finally(() => (watch = true));
    expect(err.code).toBe('too_large');
    if (watching) expect(peak).toBeLessThan(20 * MiB);
    expect(err.message).toBe(`The repository has grown larger than MAX_REPO_SIZE (${limitMiB} MB): the fetch was stopped and the previous clone kept. Raise MAX_REPO_SIZE to index it.`);
    if (process.env.LETTUCE_SIZE_FIGURES) process.stderr.write(`fetch of ${Object.keys(random).length} random files, limit ${limitMiB} MiB: failed after ${ms} ms, ${afterMs} ms after passing the limit, peak ${(peak / MiB).toFixed(1)} MiB on disk\n`);
    // The clone is as it was: same head, same shallow boundary, same packs, nothing temporary, all objects there.
    expect(await state(dir)).toEqual(before);
    expect(before.head).toBe(first.head);
    expect(await dirBytes(dir)).toBeLessThan(limitMiB * MiB);
    await local(dir, 'fsck', '--connectivity-only', '--no-dangling');
    expect(await local(dir, 'ls-tree', '-r', '--name-only', first.head)).toBe('README.md');
    expect(leftovers(dir)).toEqual([]);

    // Without the limit the same clone fetches the new head as usual.
    expect(await syncRepo({ dir, url: u, timeoutMs: 30_000, maxSizeBytes: 0 })).toEqual({ head: grown, branch: 'main', fresh: false });
    await local(dir, 'fsck', '--connectivity-only', '--no-dangling');
  });

  it('fetches normally under the limit, one pack per fetch, and keeps the diff base', async () => {
    const u = await repoOf('small');
    const dir = newDir();
    const first = await syncRepo({ dir, url: u, timeoutMs: 30_000, maxSizeBytes: MiB });
    const sha = await fake.commit('acme', 'small', { 'b.txt': 'b\n' });
    expect(await syncRepo({ dir, url: u, timeoutMs: 30_000, maxSizeBytes: MiB })).toEqual({ head: sha, branch: 'main', fresh: false });
    expect(await local(dir, 'diff', '--name-status', first.head, sha)).toBe('A\tb.txt');
    // fetch.unpackLimit=1: the fetch's objects arrive as a pack, never loose.
    expect(readdirSync(path.join(dir, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d))).toEqual([]);
  });
});

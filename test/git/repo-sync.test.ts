// repo-sync against the fake Bitbucket (real git over HTTP through `git http-backend`).
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { basicAuthValue, bitbucketTokenCredentials, gitCredentialEnv, type GitCredentials } from '../../src/git/credentials';
import {
  buildCloneArgs, buildFetchArgs, buildLsRemoteArgs, GitSyncError, isValidBranchName, probeRemote, removeRepoDir, repoDir, syncRepo,
} from '../../src/git/repo-sync';
import * as runGitModule from '../../src/git/run-git';
import { execGit, GitError, runGit } from '../../src/git/run-git';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { syncError } from './sync-error';

jest.setTimeout(30_000);

let fake: FakeBitbucket;
let tmp: string;
let token: string;
let creds: GitCredentials;
const argvSeen: string[][] = [];
const realExecGit = runGitModule.execGit;
const execSpy = jest.spyOn(runGitModule, 'execGit');

const url = (full: string) => `${fake.siteUrl}/${full}.git`;
const local = (dir: string, ...args: string[]) => runGit([`--git-dir=${dir}`, ...args]).then((s) => s.trim());

/** Every file under `dir`, read as bytes, that contains one of `needles`. */
function filesContaining(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const buf = readFileSync(p);
        if (needles.some((n) => buf.includes(n))) hits.push(path.relative(dir, p));
      }
    }
  };
  walk(dir);
  return hits;
}


let n = 0;
const newDir = () => repoDir(tmp, `r${++n}`);

beforeAll(async () => {
  execSpy.mockImplementation((args, opts) => {
    argvSeen.push([...args]);
    return realExecGit(args, opts);
  });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lettuce-git-'));
  fake = await startFakeBitbucket();
  fake.addUser({ nickname: 'alice' });
  fake.addUser({ nickname: 'bob' });
  fake.addWorkspace({ slug: 'acme', members: ['alice'] });
  await fake.addRepo({ workspace: 'acme', slug: 'api', owner: 'alice', files: { 'README.md': '# api\n', 'src/index.ts': 'export const x = 1;\n' } });
  await fake.addRepo({ workspace: 'acme', slug: 'site', is_private: false, files: { 'index.html': '<h1>hi</h1>\n' } });
  await fake.addRepo({ workspace: 'acme', slug: 'dev', owner: 'alice', mainbranch: 'develop', files: { 'a.txt': 'a\n' } });
  await fake.addRepo({ workspace: 'acme', slug: 'empty', owner: 'alice' });
  token = fake.issueTokens('alice').access_token;
  creds = bitbucketTokenCredentials(token);
});

afterAll(async () => {
  execSpy.mockRestore();
  await fake?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('clone and fetch', () => {
  it('clones a private repo with x-token-auth, and the token is nowhere in the clone', async () => {
    const dir = newDir();
    const res = await syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000 });
    expect(res).toEqual({ head: await fake.headOf('acme', 'api'), branch: 'main', fresh: true });
    expect(await local(dir, 'rev-parse', 'HEAD')).toBe(res.head);
    expect((await local(dir, 'ls-tree', '-r', '--name-only', res.head)).split('\n').sort()).toEqual(['README.md', 'src/index.ts']);
    expect(await local(dir, 'config', '--get', 'remote.origin.url')).toBe(url('acme/api'));
    expect(existsSync(path.join(dir, 'shallow'))).toBe(true);
    expect(filesContaining(dir, [token, basicAuthValue(creds).slice(6), 'x-token-auth'])).toEqual([]);
    expect(readdirSync(path.dirname(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('fetches a new commit, keeps the old one for a diff, and still stores no token', async () => {
    const dir = newDir();
    const first = await syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000 });
    const sha = await fake.commit('acme', 'api', { 'src/new.ts': 'export const y = 2;\n', 'README.md': null });
    const progress: string[] = [];
    const second = await syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000, onProgress: (p) => progress.push(p) });
    expect(second).toEqual({ head: sha, branch: 'main', fresh: false });
    await expect(local(dir, 'cat-file', '-e', first.head)).resolves.toBe('');
    expect((await local(dir, 'diff', '--name-status', first.head, second.head)).split('\n').sort()).toEqual(['A\tsrc/new.ts', 'D\tREADME.md']);
    expect(await local(dir, 'rev-parse', 'refs/lettuce/previous')).toBe(first.head);
    expect(progress).toContain('fetching');
    expect(progress[progress.length - 1]).toBe('done');
    expect(filesContaining(dir, [token, basicAuthValue(creds).slice(6), 'x-token-auth'])).toEqual([]);

    // Nothing new: same head, still not fresh.
    expect(await syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000 })).toEqual(second);
  });

  it('follows a force-push', async () => {
    const dir = newDir();
    const first = await syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000 });
    const forced = await fake.commit('acme', 'api', { 'forced.txt': 'x\n' }, { force: true });
    const res = await syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000 });
    expect(res.head).toBe(forced);
    await expect(local(dir, 'cat-file', '-e', first.head)).resolves.toBe('');
  });

  it('clones a public repo without credentials', async () => {
    const dir = newDir();
    const res = await syncRepo({ dir, url: url('acme/site'), timeoutMs: 20_000 });
    expect(res).toEqual({ head: await fake.headOf('acme', 'site'), branch: 'main', fresh: true });
  });

  it('uses the default branch, or the given one', async () => {
    const dir = newDir();
    const res = await syncRepo({ dir, url: url('acme/dev'), credentials: creds, timeoutMs: 20_000 });
    expect(res).toEqual({ head: await fake.headOf('acme', 'dev', 'develop'), branch: 'develop', fresh: true });
    const feature = await fake.commit('acme', 'dev', { 'b.txt': 'b\n' }, { branch: 'feature' });
    const other = await syncRepo({ dir, url: url('acme/dev'), branch: 'feature', credentials: creds, timeoutMs: 20_000 });
    expect(other).toEqual({ head: feature, branch: 'feature', fresh: false });
    expect(await local(dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/feature');
    const fresh = await syncRepo({ dir: newDir(), url: url('acme/dev'), branch: 'feature', credentials: creds, timeoutMs: 20_000 });
    expect(fresh).toEqual({ head: feature, branch: 'feature', fresh: true });
  });

  it('probeRemote answers the default branch and head', async () => {
    expect(await probeRemote({ url: url('acme/dev'), credentials: creds, timeoutMs: 10_000 }))
      .toEqual({ defaultBranch: 'develop', head: await fake.headOf('acme', 'dev', 'develop') });
    expect(await probeRemote({ url: url('acme/site'), timeoutMs: 10_000 }))
      .toEqual({ defaultBranch: 'main', head: await fake.headOf('acme', 'site') });
    expect(await probeRemote({ url: url('acme/empty'), credentials: creds, timeoutMs: 10_000 })).toEqual({ defaultBranch: null, head: null });
  });

  it('connects to pinned addresses (no DNS between the policy check and git)', async () => {
    const pinned = `http://repo-host.invalid:${fake.port}/acme/site.git`;
    expect(await probeRemote({ url: pinned, timeoutMs: 10_000, pinAddresses: ['127.0.0.1'] }))
      .toEqual({ defaultBranch: 'main', head: await fake.headOf('acme', 'site') });
    expect((await syncError(probeRemote({ url: pinned, timeoutMs: 10_000 }))).code).toBe('clone_failed');
  });

  it('reports an empty repo and a missing branch', async () => {
    expect((await syncError(syncRepo({ dir: newDir(), url: url('acme/empty'), credentials: creds, timeoutMs: 10_000 }))).code).toBe('empty_repo');
    const dir = newDir();
    expect((await syncError(syncRepo({ dir, url: url('acme/api'), branch: 'nope', credentials: creds, timeoutMs: 10_000 }))).code).toBe('branch_not_found');
    expect(existsSync(dir)).toBe(false);
    await syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 10_000 });
    expect((await syncError(syncRepo({ dir, url: url('acme/api'), branch: 'nope', credentials: creds, timeoutMs: 10_000 }))).code).toBe('branch_not_found');
    expect((await syncError(syncRepo({ dir, url: url('acme/api'), branch: '--upload-pack=x', credentials: creds, timeoutMs: 10_000 }))).code).toBe('branch_not_found');
  });
});

describe('failures are classified and scrubbed', () => {
  it('a wrong token fails fast with auth_failed, and the message has no token (even with git tracing on)', async () => {
    const wrong = `${token}WRONG`;
    const started = Date.now();
    const saved = { ...process.env };
    Object.assign(process.env, { GIT_CURL_VERBOSE: '1', GIT_TRACE: '1', GIT_TRACE_CURL: '1', GIT_TRACE_PACKET: '1', GIT_TRACE_REDACT: '0' });
    let err: GitSyncError;
    try {
      err = await syncError(syncRepo({ dir: newDir(), url: url('acme/api'), credentials: bitbucketTokenCredentials(wrong), timeoutMs: 20_000 }));
    } finally {
      for (const k of ['GIT_CURL_VERBOSE', 'GIT_TRACE', 'GIT_TRACE_CURL', 'GIT_TRACE_PACKET', 'GIT_TRACE_REDACT']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    expect(err.message).not.toMatch(/http\.c:|trace|Authorization/i);
    expect(err.code).toBe('auth_failed');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(token);
    expect(err.message).not.toContain(basicAuthValue(bitbucketTokenCredentials(wrong)).slice(6));
    expect(err.message).toContain(url('acme/api'));
    const probe = await syncError(probeRemote({ url: url('acme/api'), credentials: bitbucketTokenCredentials(wrong), timeoutMs: 10_000 }));
    expect(probe.code).toBe('auth_failed');
  });

  it('a private repo without credentials is auth_failed (401); a user without access is forbidden (403)', async () => {
    expect((await syncError(syncRepo({ dir: newDir(), url: url('acme/api'), timeoutMs: 10_000 }))).code).toBe('auth_failed');
    const bob = bitbucketTokenCredentials(fake.issueTokens('bob').access_token);
    expect((await syncError(syncRepo({ dir: newDir(), url: url('acme/api'), credentials: bob, timeoutMs: 10_000 }))).code).toBe('forbidden');
  });

  it('a missing repo is repo_gone with a valid token (404); anonymous, the fake answers 401 → auth_failed', async () => {
    const err = await syncError(syncRepo({ dir: newDir(), url: url('acme/missing'), credentials: creds, timeoutMs: 10_000 }));
    expect(err.code).toBe('repo_gone');
    expect(err.message).not.toContain(token);
    expect((await syncError(probeRemote({ url: url('acme/missing'), credentials: creds, timeoutMs: 10_000 }))).code).toBe('repo_gone');
    expect((await syncError(probeRemote({ url: url('acme/missing'), timeoutMs: 10_000 }))).code).toBe('auth_failed');
  });

  it('a repo deleted after the clone is repo_gone on the next fetch', async () => {
    await fake.addRepo({ workspace: 'acme', slug: 'doomed', owner: 'alice', files: { 'x.txt': 'x\n' } });
    const dir = newDir();
    await syncRepo({ dir, url: url('acme/doomed'), credentials: creds, timeoutMs: 10_000 });
    await fake.removeRepo('acme/doomed');
    expect((await syncError(syncRepo({ dir, url: url('acme/doomed'), credentials: creds, timeoutMs: 10_000 }))).code).toBe('repo_gone');
  });

  it('credentials pasted into the URL are stripped from the remote and from every message', async () => {
    const secret = 'PastedS3cretValue';
    const withCreds = `http://someone:${secret}@127.0.0.1:${fake.port}/acme/missing.git`;
    const err = await syncError(syncRepo({ dir: newDir(), url: withCreds, timeoutMs: 10_000 }));
    expect(err.message).not.toContain(secret);
    expect(err.message).not.toContain('someone');
    // And when they work, they never reach the config either.
    const alice = `http://x-token-auth:${encodeURIComponent(token)}@127.0.0.1:${fake.port}/acme/api.git`;
    const dir = newDir();
    await syncRepo({ dir, url: alice, timeoutMs: 10_000 });
    expect(filesContaining(dir, [token, 'x-token-auth'])).toEqual([]);
  });

  it('scrubs a secret git would otherwise echo', async () => {
    const secret = 'EchoedS3cretToken123';
    let err: unknown;
    try {
      const dir = path.join(tmp, 'echo.git');
      await runGit(['init', '--bare', '--quiet', dir]);
      await execGit([`--git-dir=${dir}`, 'cat-file', '-t', secret], { secrets: [secret] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).message).not.toContain(secret);
    expect((err as GitError).stderr).not.toContain(secret);
    expect((err as GitError).stderr).toContain('[redacted]');
  });

  it('an unreachable host is clone_failed', async () => {
    const err = await syncError(syncRepo({ dir: newDir(), url: 'http://127.0.0.1:9/x/y.git', credentials: creds, timeoutMs: 10_000 }));
    expect(err.code).toBe('clone_failed');
    expect(err.message).not.toContain(token);
  });
});

describe('recovery, cancellation, timeouts', () => {
  it("gives git a stall limit (below 1 KB/s for 60 s) unless the environment sets git's own", async () => {
    const saved = { limit: process.env.GIT_HTTP_LOW_SPEED_LIMIT, time: process.env.GIT_HTTP_LOW_SPEED_TIME };
    const gitEnv = async () => (await execGit(['-c', 'alias.printenv=!env', 'printenv'])).stdout.split('\n');
    try {
      delete process.env.GIT_HTTP_LOW_SPEED_LIMIT;
      delete process.env.GIT_HTTP_LOW_SPEED_TIME;
      expect(await gitEnv()).toEqual(expect.arrayContaining(['GIT_HTTP_LOW_SPEED_LIMIT=1000', 'GIT_HTTP_LOW_SPEED_TIME=60']));
      process.env.GIT_HTTP_LOW_SPEED_TIME = '3';
      expect(await gitEnv()).toEqual(expect.arrayContaining(['GIT_HTTP_LOW_SPEED_LIMIT=1000', 'GIT_HTTP_LOW_SPEED_TIME=3']));
    } finally {
      for (const [key, value] of [['GIT_HTTP_LOW_SPEED_LIMIT', saved.limit], ['GIT_HTTP_LOW_SPEED_TIME', saved.time]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('removes a half-written clone and clones again', async () => {
    const dir = newDir();
    await fs.mkdir(dir, { recursive: true });
    await runGit(['init', '--bare', '--quiet', dir]); // a repo with no refs, as a killed clone leaves it
    await fs.writeFile(path.join(dir, 'objects', 'junk'), 'x');
    const leftover = `${dir}.tmp-deadbeef`;
    await fs.mkdir(path.join(leftover, 'objects'), { recursive: true });
    const res = await syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000 });
    expect(res.fresh).toBe(true);
    expect(res.head).toBe(await fake.headOf('acme', 'api'));
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(path.join(dir, 'objects', 'junk'))).toBe(false);

    // A directory that is not a repository at all.
    const garbage = newDir();
    await fs.mkdir(garbage, { recursive: true });
    await fs.writeFile(path.join(garbage, 'HEAD'), 'garbage');
    expect((await syncRepo({ dir: garbage, url: url('acme/api'), credentials: creds, timeoutMs: 20_000 })).fresh).toBe(true);
  });

  it('recovers from lock files a killed fetch left behind', async () => {
    const dir = newDir();
    await syncRepo({ dir, url: url('acme/site'), timeoutMs: 20_000 });
    await fs.writeFile(path.join(dir, 'shallow.lock'), '');
    await fs.writeFile(path.join(dir, 'refs', 'heads', 'main.lock'), '');
    const sha = await fake.commit('acme', 'site', { 'more.html': '<p>more</p>\n' });
    expect(await syncRepo({ dir, url: url('acme/site'), timeoutMs: 20_000 })).toEqual({ head: sha, branch: 'main', fresh: false });
  });

  it('cancels on abort, kills git, never puts the token in argv, and leaves nothing half-written', async () => {
    fake.injectFault({ path: /^\/acme\/api\.git\/info\/refs$/, hang: true, times: Infinity });
    const dir = newDir();
    const ctrl = new AbortController();
    try {
      const running = syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000, signal: ctrl.signal });
      running.catch(() => undefined);
      // Wait until git (or its remote helper) is connected and hanging.
      let procs: Proc[] = [];
      for (let i = 0; i < 100 && !procs.some((p) => p.argv.includes(url('acme/api'))); i++) {
        await new Promise((r) => setTimeout(r, 50));
        procs = listProcesses();
      }
      if (process.platform === 'linux') {
        const ours = procs.filter((p) => p.argv.includes(url('acme/api')));
        expect(ours.length).toBeGreaterThan(0);
        // No process on the machine has the token (or the header) in its argv …
        for (const p of procs) {
          expect(p.argv.join(' ')).not.toContain(token);
          expect(p.argv.join(' ')).not.toContain(basicAuthValue(creds));
        }
        // … it travels in the environment of git's own processes only.
        expect(ours.some((p) => p.environ.includes(`Authorization: ${basicAuthValue(creds)}`))).toBe(true);
      }
      ctrl.abort();
      const err = await syncError(running);
      expect(err.code).toBe('cancelled');
      expect(existsSync(dir)).toBe(false);
      expect(readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`${path.basename(dir)}.tmp-`))).toEqual([]);
      if (process.platform === 'linux') {
        await new Promise((r) => setTimeout(r, 100));
        expect(listProcesses().filter((p) => p.argv.includes(url('acme/api')))).toEqual([]);
      }
      // Already aborted: fails at once.
      expect((await syncError(syncRepo({ dir, url: url('acme/api'), credentials: creds, timeoutMs: 20_000, signal: ctrl.signal }))).code).toBe('cancelled');
    } finally {
      fake.clearFaults();
    }
  });

  it('times out', async () => {
    fake.injectFault({ path: /^\/acme\/site\.git\/info\/refs$/, hang: true, times: Infinity });
    try {
      const started = Date.now();
      expect((await syncError(syncRepo({ dir: newDir(), url: url('acme/site'), timeoutMs: 800 }))).code).toBe('timeout');
      expect((await syncError(probeRemote({ url: url('acme/site'), timeoutMs: 500 }))).code).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      fake.clearFaults();
    }
  });
});

interface Proc {
  pid: number;
  argv: string[];
  environ: string;
}

function listProcesses(): Proc[] {
  if (process.platform !== 'linux') return [];
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      let environ = '';
      try {
        environ = readFileSync(`/proc/${name}/environ`, 'utf8');
      } catch {
        /* another user's process */
      }
      out.push({ pid: Number(name), argv, environ });
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('credentials never reach argv', () => {
  it('the argument builders put "--" before the URL and no secret anywhere', () => {
    const u = 'https://bitbucket.org/acme/api.git';
    const clone = buildCloneArgs(u, '/data/repos/r.git', 'main');
    expect(clone.indexOf('--')).toBe(clone.indexOf(u) - 1);
    expect(clone).toEqual(expect.arrayContaining(['--bare', '--depth', '1', '--single-branch', '--branch', 'main']));
    const fetch = buildFetchArgs('/data/repos/r.git', u, 'main');
    expect(fetch.indexOf('--')).toBe(fetch.indexOf(u) - 1);
    expect(fetch).toContain('+refs/heads/main:refs/heads/main');
    const ls = buildLsRemoteArgs(u);
    expect(ls).toEqual(['ls-remote', '--symref', '--', u, 'HEAD']);
  });

  it('the environment carries a scoped Basic header and disables prompts and helpers', () => {
    const env = gitCredentialEnv('https://bitbucket.org/acme/api.git', { username: 'x-token-auth', password: 'tok' });
    const pairs = Object.fromEntries(
      Array.from({ length: Number(env.GIT_CONFIG_COUNT) }, (_, i) => [env[`GIT_CONFIG_KEY_${i}`], env[`GIT_CONFIG_VALUE_${i}`]]),
    );
    expect(pairs['http.https://bitbucket.org/acme/api.git.extraHeader']).toBe(`Authorization: Basic ${Buffer.from('x-token-auth:tok').toString('base64')}`);
    expect(pairs['credential.helper']).toBe('');
    expect(pairs['http.followRedirects']).toBe('false');
    expect(env.GIT_TERMINAL_PROMPT).toBe('0');
    expect(env.GIT_ASKPASS).toBe('');
    expect(env.GIT_ALLOW_PROTOCOL).toBe('https:http:git');
    expect(() => gitCredentialEnv('https://u:p@bitbucket.org/a/b.git', null)).toThrow(/must not carry credentials/);
    expect(() => gitCredentialEnv('git://host/a.git', { username: 'u', password: 'p' })).toThrow(/http/);
    expect(() => gitCredentialEnv('https://host/a.git', { username: 'u', password: 'p\r\nX-Evil: 1' })).toThrow(/line breaks/);
    expect(Object.keys(gitCredentialEnv('https://host/a.git', null)).join(' ')).not.toMatch(/extraHeader/i);
    expect(Object.values(gitCredentialEnv('https://host/a.git', null)).join(' ')).not.toMatch(/Authorization/);
  });

  it('no git command run by this file had a token in its arguments', () => {
    expect(argvSeen.length).toBeGreaterThan(20);
    for (const args of argvSeen) {
      const joined = args.join(' ');
      expect(joined).not.toContain(token);
      expect(joined).not.toMatch(/Authorization|x-token-auth|extraHeader/i);
    }
    expect(argvSeen.some((a) => a.includes('clone') && a.includes('--'))).toBe(true);
  });
});

describe('clone directories', () => {
  it('repoDir names the clone and refuses path tricks; removeRepoDir removes it and leftovers', async () => {
    expect(repoDir('/data', 'abc-123')).toBe('/data/repos/abc-123.git');
    for (const bad of ['', '..', '../x', 'a/b', '.hidden', 'a b']) expect(() => repoDir('/data', bad)).toThrow();
    const dir = repoDir(tmp, 'to-remove');
    await fs.mkdir(path.join(dir, 'objects'), { recursive: true });
    await fs.mkdir(`${dir}.tmp-abc`, { recursive: true });
    await removeRepoDir(tmp, 'to-remove');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(`${dir}.tmp-abc`)).toBe(false);
    await removeRepoDir(tmp, 'never-existed');
  });

  it('validates branch names', () => {
    for (const ok of ['main', 'feature/x', 'release-1.2', 'a_b']) expect(isValidBranchName(ok)).toBe(true);
    for (const bad of ['', '-x', '--upload-pack=x', 'a..b', 'a b', 'a:b', 'x.lock', 'a/', '/a', 'a@{1}', 'a\\b']) expect(isValidBranchName(bad)).toBe(false);
  });

  it('refuses a directory that is not named like a clone', async () => {
    expect((await syncError(syncRepo({ dir: tmp, url: url('acme/site'), timeoutMs: 5_000 }))).code).toBe('clone_failed');
    expect(existsSync(tmp)).toBe(true);
  });
});

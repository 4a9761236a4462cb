// git:// is pinned to the addresses the URL policy checked, like http(s): git reaches the host
// through GIT_PROXY_COMMAND, a proxy that connects only to those addresses. Against a real
// `git daemon` on 127.0.0.1: a name that does not resolve (or resolves elsewhere) is reached at
// the pinned address and nowhere else.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gitCredentialEnv } from '../../src/git/credentials';
import { gitProxyCommand } from '../../src/git/git-proxy';
import { probeRemote, repoDir, syncRepo } from '../../src/git/repo-sync';
import { runGit } from '../../src/git/run-git';
import { checkRepoUrl } from '../../src/git/url-policy';
import { freePort } from '../../src/dev/processes';
import { git, isolatedGitEnv } from '../fakes/bitbucket/git';
import { syncError } from './sync-error';

jest.setTimeout(30_000);

let tmp: string;
let port: number;
let daemon: ChildProcess;
let head: string;


/** Waits until something accepts connections on 127.0.0.1:port. */
async function listening(p: number): Promise<void> {
  const net = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: p }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('git daemon did not start');
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lettuce-git-proxy-test-'));
  const bare = path.join(tmp, 'served', 'repo.git');
  await fs.mkdir(bare, { recursive: true });
  await git(['init', '--bare', '--quiet', '--initial-branch=main', bare]);
  const stream = 'commit refs/heads/main\ncommitter T <t@t> 1700000000 +0000\ndata 2\nx\nM 100644 inline README.md\ndata 6\nhello\n\ndone\n';
  await git(['fast-import', '--quiet', '--done'], { cwd: bare, input: stream });
  head = (await git(['rev-parse', 'refs/heads/main'], { cwd: bare })).trim();
  port = await freePort();
  daemon = spawn('git', ['daemon', '--export-all', `--base-path=${path.join(tmp, 'served')}`, '--listen=127.0.0.1', `--port=${port}`, '--reuseaddr'], {
    env: isolatedGitEnv(),
    stdio: 'ignore',
  });
  await listening(port);
});

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon.once('exit', r));
    daemon.kill('SIGTERM');
    await exited;
  }
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('git:// is pinned to the checked addresses', () => {
  it('reaches a name that does not resolve at the address it was checked against', async () => {
    // The policy check, with a resolver that answers 127.0.0.1 for this name (DNS at check time) …
    const checked = await checkRepoUrl(`git://repo-host.invalid:${port}/repo.git`, { allowPrivateHosts: true, lookup: async () => ['127.0.0.1'] });
    expect(checked.addresses).toEqual(['127.0.0.1']);
    // … and git, whose own DNS knows nothing of the name, connects to that address only.
    expect(await probeRemote({ url: checked.cloneUrl, timeoutMs: 10_000, pinAddresses: checked.addresses })).toEqual({ defaultBranch: 'main', head });
    const dir = repoDir(tmp, 'cloned');
    expect(await syncRepo({ dir, url: checked.cloneUrl, timeoutMs: 10_000, pinAddresses: checked.addresses })).toEqual({ head, branch: 'main', fresh: true });
    expect(await syncRepo({ dir, url: checked.cloneUrl, timeoutMs: 10_000, pinAddresses: checked.addresses })).toEqual({ head, branch: 'main', fresh: false });
    // Unpinned, git resolves the name itself: it does not exist.
    expect((await syncError(probeRemote({ url: checked.cloneUrl, timeoutMs: 10_000 }))).code).toBe('clone_failed');
  });

  it('does not connect where the name resolves now, only where it resolved when checked', async () => {
    // "localhost" resolves to 127.0.0.1, where the daemon listens; the check saw 127.0.0.2 (nothing listens there).
    const err = await syncError(probeRemote({ url: `git://localhost:${port}/repo.git`, timeoutMs: 10_000, pinAddresses: ['127.0.0.2'] }));
    expect(err.code).toBe('clone_failed');
    // The same URL unpinned does reach the daemon: the refusal above was the pin's doing.
    expect(await probeRemote({ url: `git://localhost:${port}/repo.git`, timeoutMs: 10_000 })).toEqual({ defaultBranch: 'main', head });
    // Several checked addresses: the first that answers is used.
    expect(await probeRemote({ url: `git://localhost:${port}/repo.git`, timeoutMs: 10_000, pinAddresses: ['127.0.0.2', '127.0.0.1'] })).toEqual({ defaultBranch: 'main', head });
  });

  it('sets the proxy for git:// names only, and the proxy refuses any other host', async () => {
    const env = gitCredentialEnv(`git://Repo-Host.example:${port}/repo.git`, null, { pinAddresses: ['203.0.113.7'] });
    expect(env.GIT_PROXY_COMMAND).toBe(gitProxyCommand());
    expect(existsSync(env.GIT_PROXY_COMMAND)).toBe(true);
    expect([env.LETTUCE_GIT_PROXY_HOST, env.LETTUCE_GIT_PROXY_ADDRESSES]).toEqual(['repo-host.example', '203.0.113.7']);
    expect(gitCredentialEnv('git://203.0.113.7/repo.git', null, { pinAddresses: ['203.0.113.7'] }).GIT_PROXY_COMMAND).toBeUndefined();
    expect(gitCredentialEnv('https://host.example/repo.git', null, { pinAddresses: ['203.0.113.7'] }).GIT_PROXY_COMMAND).toBeUndefined();
    expect(gitCredentialEnv('git://host.example/repo.git', null).GIT_PROXY_COMMAND).toBeUndefined();

    // Run directly, the way git runs it (argv: host port), for a host other than the checked one.
    const run = (args: string[], extra: Record<string, string>) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(gitProxyCommand(), args, { env: { ...process.env, ...extra }, timeout: 10_000 }, (err, _out, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
    const other = await run(['evil.example', String(port)], { LETTUCE_GIT_PROXY_HOST: 'repo-host.example', LETTUCE_GIT_PROXY_ADDRESSES: '127.0.0.1' });
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/not for the host that was checked/);
    const none = await run(['repo-host.example', String(port)], { LETTUCE_GIT_PROXY_HOST: 'repo-host.example', LETTUCE_GIT_PROXY_ADDRESSES: 'not-an-ip' });
    expect(none.stderr).toMatch(/no checked address/);
  });

  it('git runs the proxy without a shell: the command is a file, its arguments git\'s own', async () => {
    // A sanity check of the git this runs on: GIT_PROXY_COMMAND with a space is one program name.
    const out = await runGit(['ls-remote', `git://localhost:${port}/repo.git`], {
      env: { GIT_PROXY_COMMAND: `${gitProxyCommand()} extra` }, timeoutMs: 10_000,
    }).catch((e: Error) => e.message);
    expect(out).toMatch(/cannot (run|start proxy)/);
  });
});

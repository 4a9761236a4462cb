// Bare git repositories on disk, written with `git fast-import` and served by the real
// `git http-backend` CGI. The git CLI is always spawned with an argument vector, never a shell.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, lstatSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/** An environment that keeps the user's and the system's git config out of the fake. */
export function isolatedGitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

/** Bytes the files under `dir` take (0 when it does not exist): what Bitbucket reports as a repository's `size`. */
export function dirSizeSync(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    try {
      total += e.isDirectory() ? dirSizeSync(p) : lstatSync(p).size;
    } catch {
      /* removed meanwhile */
    }
  }
  return total;
}

export class GitCommandError extends Error {
  constructor(readonly args: string[], readonly code: number | null, readonly stderr: string) {
    super(`git ${args.join(' ')} failed (${code}): ${stderr.trim()}`);
  }
}

export function git(args: string[], opts: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: opts.env ?? isolatedGitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.stdin.on('error', () => { /* the child may exit before reading everything */ });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new GitCommandError(args, code, Buffer.concat(err).toString('utf8')));
    });
    child.stdin.end(opts.input ?? '');
  });
}

export interface CommitInfo {
  hash: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  date: string; // ISO-8601, +00:00
  message: string;
}

export interface CommitOptions {
  message?: string;
  branch?: string;
  /** Replace the branch head instead of building on it (a force push). */
  force?: boolean;
  author?: { name: string; email: string };
}

export function validateFilePath(p: string): void {
  if (p === '' || p.includes('\n') || p.startsWith('/') || p.startsWith('"') || p.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`Invalid file path for commit: ${JSON.stringify(p)}`);
  }
}

export function validateBranch(b: string): void {
  if (!/^[A-Za-z0-9._/-]+$/.test(b) || b.includes('..') || b.startsWith('/') || b.endsWith('/') || b.startsWith('-')) {
    throw new Error(`Invalid branch name: ${JSON.stringify(b)}`);
  }
}

export class GitStore {
  private readonly creating = new Map<string, Promise<void>>();
  private lastCommitTime = 0;
  /** Serialises writes per repository. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  dirOf(workspace: string, slug: string): string {
    return path.join(this.root, workspace, `${slug}.git`);
  }

  /** Creates the bare repository on first use. */
  ensure(workspace: string, slug: string, initialBranch: string): Promise<void> {
    const dir = this.dirOf(workspace, slug);
    let p = this.creating.get(dir);
    if (!p) {
      p = (async () => {
        if (existsSync(path.join(dir, 'HEAD'))) return;
        await fs.mkdir(dir, { recursive: true });
        await git(['init', '--bare', '--quiet', `--initial-branch=${initialBranch}`, dir]);
        await git(['config', 'uploadpack.allowReachableSHA1InWant', 'true'], { cwd: dir });
        await git(['config', 'http.receivepack', 'false'], { cwd: dir });
      })();
      p.catch(() => this.creating.delete(dir));
      this.creating.set(dir, p);
    }
    return p;
  }

  private withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(dir) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(dir, next.catch(() => undefined));
    return next;
  }

  async head(dir: string, branch: string): Promise<string | null> {
    if (!existsSync(path.join(dir, 'HEAD'))) return null;
    try {
      return (await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { cwd: dir })).trim() || null;
    } catch {
      return null;
    }
  }

  /**
   * Commits `files` (path → content, or null to delete) to `branch` and returns the new sha.
   * A new branch starts from `baseBranch`'s head. With `force`, the new commit replaces the
   * current head (it is built on the head's first parent), so the old head is no longer an ancestor.
   */
  commit(dir: string, baseBranch: string, files: Record<string, string | null>, opts: CommitOptions = {}): Promise<string> {
    const branch = opts.branch ?? baseBranch;
    validateBranch(branch);
    for (const p of Object.keys(files)) validateFilePath(p);
    return this.withLock(dir, async () => {
      const current = await this.head(dir, branch);
      let from: string | null = current ?? (branch !== baseBranch ? await this.head(dir, baseBranch) : null);
      if (opts.force && current) {
        const parents = (await git(['rev-list', '--parents', '-n', '1', current], { cwd: dir })).trim().split(' ').slice(1);
        from = parents[0] ?? null;
      }
      const author = opts.author ?? { name: 'Fake Bitbucket', email: 'noreply@fake-bitbucket.test' };
      // Strictly increasing timestamps, so two identical commits in one second still differ.
      const ts = Math.max(Math.floor(Date.now() / 1000), this.lastCommitTime + 1);
      this.lastCommitTime = ts;
      const message = opts.message ?? `Update ${Object.keys(files).join(', ') || 'nothing'}`;
      const msg = Buffer.from(message.endsWith('\n') ? message : `${message}\n`);
      const ident = `${author.name} <${author.email}> ${ts} +0000`;
      const parts: Buffer[] = [];
      const line = (s: string) => parts.push(Buffer.from(`${s}\n`));
      line(`reset refs/heads/${branch}`);
      if (from) line(`from ${from}`);
      line('');
      line(`commit refs/heads/${branch}`);
      line(`author ${ident}`);
      line(`committer ${ident}`);
      line(`data ${msg.length}`);
      parts.push(msg);
      if (from) line(`from ${from}`);
      for (const [p, content] of Object.entries(files)) {
        if (content === null) {
          line(`D ${p}`);
        } else {
          const data = Buffer.from(content, 'utf8');
          line(`M 100644 inline ${p}`);
          line(`data ${data.length}`);
          parts.push(data);
          line('');
        }
      }
      line('');
      line('done');
      await git(['fast-import', '--quiet', '--force', '--done'], { cwd: dir, input: Buffer.concat(parts) });
      const sha = await this.head(dir, branch);
      if (!sha) throw new Error(`commit to ${branch} left no head`);
      return sha;
    });
  }

  /** The commit `ref` (refs/heads/x, refs/tags/x) points to, or null. */
  async resolve(dir: string, ref: string): Promise<string | null> {
    if (!existsSync(path.join(dir, 'HEAD'))) return null;
    return (await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: dir }).catch(() => '')).trim() || null;
  }

  /** Points `ref` at `commit`, or deletes it (null). */
  setRef(dir: string, ref: string, commit: string | null): Promise<void> {
    return this.withLock(dir, async () => {
      await git(commit ? ['update-ref', ref, commit] : ['update-ref', '-d', ref], { cwd: dir });
    });
  }

  /** What the repository's HEAD (its main branch, for clones and ls-remote) points to. */
  setHeadBranch(dir: string, branch: string): Promise<void> {
    validateBranch(branch);
    return this.withLock(dir, async () => {
      await git(['symbolic-ref', 'HEAD', `refs/heads/${branch}`], { cwd: dir });
    });
  }

  /** Commits reachable from `newHash` and not from `oldHash`, newest first, at most `max`. */
  async log(dir: string, newHash: string, oldHash: string | null, max: number): Promise<CommitInfo[]> {
    const args = ['log', `-n${max}`, '--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e', newHash];
    if (oldHash) args.push(`^${oldHash}`);
    const out = await git(args, { cwd: dir });
    return out.split('\x1e').map((r) => r.replace(/^\n/, '')).filter((r) => r.trim() !== '').map((r) => {
      const [hash, parents, authorName, authorEmail, date, message] = r.split('\x1f');
      return { hash, parents: parents ? parents.split(' ') : [], authorName, authorEmail, date, message: message ?? '' };
    });
  }

  async commitInfo(dir: string, hash: string): Promise<CommitInfo> {
    const [info] = await this.log(dir, hash, null, 1);
    return info;
  }

  async isAncestor(dir: string, ancestor: string, descendant: string): Promise<boolean> {
    try {
      await git(['merge-base', '--is-ancestor', ancestor, descendant], { cwd: dir });
      return true;
    } catch {
      return false;
    }
  }
}

let execPathPromise: Promise<string> | null = null;
export function gitExecPath(): Promise<string> {
  execPathPromise ??= git(['--exec-path']).then((s) => s.trim());
  return execPathPromise;
}

export interface CgiRequest {
  projectRoot: string;
  /** e.g. /ws/slug.git/info/refs */
  pathInfo: string;
  query: string;
  remoteUser?: string;
}

/**
 * Runs `git http-backend` for one request: streams the request body in (the CGI itself
 * inflates `Content-Encoding: gzip` bodies) and the CGI's output back, translating its
 * `Status:` header. Resolves when the response is finished.
 */
export async function runHttpBackend(req: IncomingMessage, res: ServerResponse, cgi: CgiRequest,
  track: (child: ChildProcess) => void): Promise<void> {
  const backend = path.join(await gitExecPath(), 'git-http-backend');
  const env: NodeJS.ProcessEnv = isolatedGitEnv({
    GIT_PROJECT_ROOT: cgi.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: cgi.pathInfo,
    QUERY_STRING: cgi.query,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    GATEWAY_INTERFACE: 'CGI/1.1',
  });
  if (cgi.remoteUser) env.REMOTE_USER = cgi.remoteUser;
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  const encoding = req.headers['content-encoding'];
  if (encoding) env.HTTP_CONTENT_ENCODING = encoding;
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.HTTP_GIT_PROTOCOL = protocol;

  const child = spawn(backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  await new Promise<void>((resolve) => {
    let headerBuf: Buffer | null = Buffer.alloc(0);
    const stderr: Buffer[] = [];
    const fail = (msg: string) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(msg);
      } else {
        res.destroy();
      }
    };
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.stdin.on('error', () => { /* backend exited early */ });
    child.on('error', (e) => { fail(`git http-backend failed to start: ${e.message}`); resolve(); });
    req.pipe(child.stdin);
    res.on('close', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerBuf === null) {
        res.write(chunk);
        return;
      }
      headerBuf = Buffer.concat([headerBuf, chunk]);
      let end = headerBuf.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (end < 0) {
        end = headerBuf.indexOf('\n\n');
        sepLen = 2;
      }
      if (end < 0) return;
      const head = headerBuf.subarray(0, end).toString('latin1');
      const rest = headerBuf.subarray(end + sepLen);
      headerBuf = null;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const l of head.split(/\r?\n/)) {
        const i = l.indexOf(':');
        if (i <= 0) continue;
        const name = l.slice(0, i).trim();
        const value = l.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      if (rest.length) res.write(rest);
    });
    child.on('close', (code) => {
      if (headerBuf !== null) fail(`git http-backend exited (${code}) without headers: ${Buffer.concat(stderr).toString('utf8')}`);
      else res.end();
      resolve();
    });
  });
}

// Git plumbing for the indexer: git is spawned without a shell, `-C <dir>` (bare or not), with the
// hardened environment of every git child (src/git/run-git.ts).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { childEnv } from '../git/run-git';
import { decodePath } from './encoding';

export class IndexGitError extends Error {
  override name = 'IndexGitError';
  readonly code = 'index_failed';
}

// Reads only: no optional locks (index refresh) that could contend with a fetch.
const GIT_ENV = { GIT_OPTIONAL_LOCKS: '0' };

function spawnGit(gitDir: string, args: string[], signal?: AbortSignal): ChildProcessWithoutNullStreams {
  return spawn('git', ['-C', gitDir, '-c', 'core.quotePath=false', ...args], {
    env: childEnv(GIT_ENV),
    stdio: ['pipe', 'pipe', 'pipe'],
    signal,
  });
}

/** Runs git to completion; resolves stdout, rejects with the last lines of stderr. */
export function gitOutput(gitDir: string, args: string[], opts: { signal?: AbortSignal; input?: string } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawnGit(gitDir, args, opts.signal);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.length < 64 && err.push(b));
    child.stdin.on('error', () => undefined);
    child.once('error', (e) => reject(e.name === 'AbortError' ? e : new IndexGitError(`git ${args[0]} could not run: ${e.message}`)));
    child.once('close', (code) => {
      if (code === 0) return resolve(Buffer.concat(out));
      const why = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-2).join(' ');
      reject(new IndexGitError(`git ${args[0]} failed (exit ${code}): ${why}`));
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The full sha of a commit-ish, or null when it is not in the repository. */
export async function resolveCommit(gitDir: string, rev: string, signal?: AbortSignal): Promise<string | null> {
  if (!/^[0-9a-zA-Z._/@^~-]+$/.test(rev) || rev.startsWith('-')) return null;
  try {
    const out = await gitOutput(gitDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { signal });
    return out.toString('utf8').trim() || null;
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    return null;
  }
}

export interface TreeEntry {
  mode: string;
  type: string;
  sha: string;
  /** null for non-blobs. */
  size: number | null;
  path: string;
}

/** `git ls-tree -r -l -z --full-tree <commit>`. */
export async function lsTree(gitDir: string, commit: string, signal?: AbortSignal): Promise<TreeEntry[]> {
  const out = await gitOutput(gitDir, ['ls-tree', '-r', '-l', '-z', '--full-tree', commit], { signal });
  const entries: TreeEntry[] = [];
  let start = 0;
  while (start < out.length) {
    let end = out.indexOf(0, start);
    if (end < 0) end = out.length;
    const tab = out.indexOf(9, start);
    if (tab > start && tab < end) {
      const meta = out.toString('latin1', start, tab).split(/ +/);
      entries.push({
        mode: meta[0],
        type: meta[1],
        sha: meta[2],
        size: meta[3] === '-' ? null : Number(meta[3]),
        path: decodePath(out.subarray(tab + 1, end)),
      });
    }
    start = end + 1;
  }
  return entries;
}

export interface DiffEntry {
  oldMode: string;
  newMode: string;
  oldSha: string;
  newSha: string;
  status: string;
  path: string;
}

/** `git diff --raw -z --no-renames` between two commits (trees only; works in shallow clones). */
export async function diffRaw(gitDir: string, from: string, to: string, signal?: AbortSignal): Promise<DiffEntry[]> {
  const out = await gitOutput(gitDir, ['diff', '--raw', '-z', '--no-renames', '--no-abbrev', '--no-ext-diff', '--no-textconv', '-r', from, to, '--'], { signal });
  // NUL-separated: the meta of an entry, then its path (bytes, which need not be UTF-8).
  const parts: Buffer[] = [];
  for (let start = 0; start < out.length; ) {
    let end = out.indexOf(0, start);
    if (end < 0) end = out.length;
    parts.push(out.subarray(start, end));
    start = end + 1;
  }
  const entries: DiffEntry[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i].toString('latin1');
    if (!meta.startsWith(':')) throw new IndexGitError(`unexpected git diff output: ${meta.slice(0, 80)}`);
    const [oldMode, newMode, oldSha, newSha, status] = meta.slice(1).split(' ');
    entries.push({ oldMode, newMode, oldSha, newSha, status: status[0], path: decodePath(parts[i + 1]) });
  }
  return entries;
}

/** Object sizes by `git cat-file --batch-check`. */
export async function blobSizes(gitDir: string, shas: string[], signal?: AbortSignal): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (shas.length === 0) return sizes;
  const out = await gitOutput(gitDir, ['cat-file', '--batch-check'], { signal, input: shas.join('\n') + '\n' });
  for (const line of out.toString('utf8').split('\n')) {
    const [sha, type, size] = line.split(' ');
    if (type && type !== 'missing') sizes.set(sha, Number(size));
  }
  return sizes;
}

/**
 * One long-lived `git cat-file --batch`: `read(shas)` answers the blobs' bytes in order. Requests are
 * served one after the other.
 */
export class BlobReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending: { shas: string[]; out: Buffer[]; resolve: (b: Buffer[]) => void; reject: (e: Error) => void } | null = null;
  private queue: Array<() => void> = [];
  private failure: Error | null = null;
  private stderr = '';
  /** Bytes needed before the object at the head of the output is complete. */
  private need = 0;

  constructor(gitDir: string, signal?: AbortSignal) {
    this.child = spawnGit(gitDir, ['cat-file', '--batch'], signal);
    this.child.stdout.on('data', (b: Buffer) => this.onData(b));
    this.child.stderr.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString('utf8')).slice(-500)));
    this.child.stdin.on('error', () => undefined);
    this.child.once('error', (e) => this.fail(e.name === 'AbortError' ? e : new IndexGitError(`git cat-file could not run: ${e.message}`)));
    this.child.once('close', (code) => this.fail(new IndexGitError(`git cat-file exited (${code}): ${this.stderr.trim()}`)));
  }

  read(shas: string[]): Promise<Buffer[]> {
    if (shas.length === 0) return Promise.resolve([]);
    return new Promise<Buffer[]>((resolve, reject) => {
      const start = () => {
        if (this.failure) return reject(this.failure);
        this.pending = { shas, out: [], resolve, reject };
        this.child.stdin.write(shas.join('\n') + '\n');
        this.drain();
      };
      if (this.pending) this.queue.push(start);
      else start();
    });
  }

  close(): void {
    this.child.stdin.end();
    if (this.child.exitCode === null) this.child.kill();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const p = this.pending;
    this.pending = null;
    p?.reject(this.failure);
    for (const q of this.queue.splice(0)) q();
  }

  private onData(b: Buffer): void {
    this.chunks.push(b);
    this.buffered += b.length;
    if (this.buffered >= this.need) this.drain();
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return head;
  }

  private drain(): void {
    while (this.pending && this.buffered > 0) {
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [all];
      const nl = all.indexOf(10);
      if (nl < 0) return;
      const header = all.toString('latin1', 0, nl).split(' ');
      const p = this.pending;
      const sha = p.shas[p.out.length];
      if (header[1] === 'missing' || header.length < 3) {
        this.take(nl + 1);
        return this.fail(new IndexGitError(`git object ${sha} is missing`));
      }
      const size = Number(header[2]);
      if (this.buffered < nl + 1 + size + 1) {
        this.need = nl + 1 + size + 1;
        return;
      }
      this.need = 0;
      this.take(nl + 1);
      p.out.push(Buffer.from(this.take(size)));
      this.take(1);
      if (p.out.length === p.shas.length) {
        this.pending = null;
        p.resolve(p.out);
        const next = this.queue.shift();
        if (next) next();
      }
    }
  }
}

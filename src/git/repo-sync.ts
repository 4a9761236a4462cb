// Keeps a bare, shallow clone of one branch of a remote repository under DATA_DIR:
// the first sync clones (depth 1) into a temporary directory and renames it into place, later
// syncs fetch the new head (depth 1) so the previous head's objects stay and
// `git diff <old> <new>` works. Credentials only ever travel in the git child's environment
// (see credentials.ts); errors are classified and scrubbed. MAX_REPO_SIZE caps what a clone or
// fetch may put on disk: git is stopped when the clone passes it, and what it wrote is removed.
import crypto from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatByteSize } from '../byte-size';
import { credentialSecrets, gitCredentialEnv, type GitCredentials } from './credentials';
import { dirBytes } from './disk-usage';
import { execGit, GitError, scrubSecrets } from './run-git';

export type GitSyncErrorCode =
  | 'auth_failed' // 401, "Authentication failed"
  | 'forbidden' // 403: credentials accepted, access refused (Bitbucket: the user may no longer read the repo)
  | 'rate_limited' // 429: the host's rate limit (Bitbucket counts git operations per hour)
  | 'repo_gone' // repository not found / 404 / 410
  | 'timeout'
  | 'cancelled'
  | 'empty_repo' // the remote has no commits (no default branch)
  | 'branch_not_found' // the requested branch does not exist on the remote
  | 'too_large' // the clone would grow past MAX_REPO_SIZE (or the host reports it larger)
  | 'clone_failed'; // anything else (network, server error, local disk, …)

export class GitSyncError extends Error {
  override name = 'GitSyncError';
  constructor(readonly code: GitSyncErrorCode, message: string) {
    super(message);
  }
}

export interface RemoteOptions {
  /** The remote URL. Userinfo in it is stripped (and used as credentials only when none are given). */
  url: string;
  credentials?: GitCredentials | null;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Addresses the host was checked against (url-policy resolveAllowedHost); git connects only to these. */
  pinAddresses?: string[];
}

export interface RemoteInfo {
  /** The branch the remote HEAD points to, e.g. "main"; null when unknown (empty repo). */
  defaultBranch: string | null;
  /** The sha of the remote HEAD; null for an empty repo. */
  head: string | null;
}

export interface SyncOptions extends RemoteOptions {
  /** Where the bare clone lives (see repoDir). */
  dir: string;
  /** The branch to sync; null/undefined = the remote's default branch. */
  branch?: string | null;
  onProgress?: (phase: string) => void;
  /** MAX_REPO_SIZE in bytes: the clone may not grow past this on disk; 0 or unset = no limit. */
  maxSizeBytes?: number;
  /** The repository's size as its host reports it (Bitbucket's `size`), when known: over the limit fails before any transfer. */
  reportedSizeBytes?: number | null;
}

/** How often the clone's size is measured while git transfers. */
const SIZE_CHECK_INTERVAL_MS = 200;

const raiseIt = 'Raise MAX_REPO_SIZE to index it.';

function tooLarge(limit: number, what: 'clone' | 'fetch' | 'reported', reported?: number): GitSyncError {
  const max = `MAX_REPO_SIZE (${formatByteSize(limit)})`;
  if (what === 'reported') {
    let size = formatByteSize(reported ?? 0);
    if (size === formatByteSize(limit)) size = `${reported} bytes`; // not "1 MB, larger than … (1 MB)"
    return new GitSyncError('too_large', `The repository is larger than ${max}: its host reports ${size}, so it was not cloned. ${raiseIt}`);
  }
  if (what === 'fetch') {
    return new GitSyncError('too_large', `The repository has grown larger than ${max}: the fetch was stopped and the previous clone kept. ${raiseIt}`);
  }
  return new GitSyncError('too_large', `The repository is larger than ${max}: its clone was stopped and removed. ${raiseIt}`);
}

export interface SyncResult {
  /** The new head sha of `branch`. */
  head: string;
  branch: string;
  /** True when this call cloned from scratch (no earlier objects to diff against). */
  fresh: boolean;
}

// ------------------------------------------------------------------ where clones live

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** `${dataDir}/repos/<repoId>.git` (repoId: letters, digits, ".", "_", "-"). */
export function repoDir(dataDir: string, repoId: string): string {
  if (!REPO_ID.test(repoId) || repoId.includes('..')) throw new Error('Invalid repo id for a clone directory.');
  return path.join(path.resolve(dataDir), 'repos', `${repoId}.git`);
}

async function removeTmpSiblings(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.tmp-`;
  let names: string[] = [];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => fs.rm(path.join(parent, n), { recursive: true, force: true, maxRetries: 3 })));
}

/** Removes a repo's clone and any half-written clone left next to it. */
export async function removeRepoDir(dataDir: string, repoId: string): Promise<void> {
  const dir = repoDir(dataDir, repoId);
  await fs.rm(dir, { recursive: true, force: true });
  await removeTmpSiblings(dir);
}

// ------------------------------------------------------------------ argument builders (no secrets, ever)

const BRANCH_FORBIDDEN = /[\s\0-\x1f\x7f~^:?*[\\]|\.\.|@\{|\/\/|^[-/.]|[/.]$|\.lock$|\/\./;

export function isValidBranchName(branch: string): boolean {
  return typeof branch === 'string' && branch.length > 0 && branch.length <= 255 && branch !== '@' && !BRANCH_FORBIDDEN.test(branch);
}

export function buildLsRemoteArgs(url: string, branch?: string | null): string[] {
  return ['ls-remote', '--symref', '--', url, 'HEAD', ...(branch ? [`refs/heads/${branch}`] : [])];
}

export function buildCloneArgs(url: string, target: string, branch: string | null, progress = false): string[] {
  return [
    'clone', '--bare', '--depth', '1', '--single-branch', '--no-tags', '--template=',
    ...(progress ? ['--progress'] : ['--quiet']),
    ...(branch ? ['--branch', branch] : []),
    '--', url, target,
  ];
}

export function buildFetchArgs(gitDir: string, url: string, branch: string, progress = false): string[] {
  return [
    // Always one pack (never loose objects) and no maintenance during the fetch: what a fetch
    // stopped for MAX_REPO_SIZE wrote is then exactly the pack files it added.
    `--git-dir=${gitDir}`, '-c', 'fetch.unpackLimit=1', 'fetch', '--no-auto-maintenance',
    '--depth', '1', '--no-tags', '--update-head-ok', '--no-write-fetch-head',
    ...(progress ? ['--progress'] : ['--quiet']),
    '--', url, `+refs/heads/${branch}:refs/heads/${branch}`,
  ];
}

// ------------------------------------------------------------------ helpers

interface Remote {
  url: string;
  credentials: GitCredentials | null;
  env: Record<string, string>;
  secrets: string[];
  display: string;
}

function prepareRemote(opts: RemoteOptions): Remote {
  let u: URL;
  try {
    u = new URL(opts.url);
  } catch {
    throw new GitSyncError('clone_failed', 'The repository URL could not be parsed.');
  }
  if (!['https:', 'http:', 'git:'].includes(u.protocol)) {
    throw new GitSyncError('clone_failed', 'Only https, http and git repository URLs can be cloned.');
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  let credentials = opts.credentials ?? null;
  const fromUrl = u.password ? { username: decode(u.username), password: decode(u.password) } : null;
  const urlSecrets = [u.username, u.password].filter(Boolean).flatMap((s) => [s, decode(s)]);
  u.username = '';
  u.password = '';
  u.hash = '';
  if (!credentials && fromUrl && u.protocol !== 'git:') credentials = fromUrl;
  const url = u.toString().replace(/\/+$/, '');
  const secrets = [...credentialSecrets(credentials), ...urlSecrets];
  let env: Record<string, string>;
  try {
    env = gitCredentialEnv(url, credentials, { pinAddresses: opts.pinAddresses });
  } catch (e) {
    throw new GitSyncError('clone_failed', scrubSecrets((e as Error).message, secrets));
  }
  return { url, credentials, env, secrets, display: url };
}

const RATE_RE = /returned error: 429\b|HTTP 429\b|\b429 Too Many Requests/i;
const FORBIDDEN_RE = /returned error: 403\b|\b403 Forbidden/i;
const AUTH_RE = /Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 401\b|\b401 Unauthorized|HTTP Basic: Access denied|Invalid username or password/i;
const GONE_RE = /repository '.*' not found|Repository not found|returned error: (404|410)\b|does not appear to be a git repository|access denied or repository not exported|no such repository/i;
const BRANCH_RE = /Remote branch .* not found in upstream|couldn't find remote ref|Could not find remote branch/i;

function lastLines(text: string, n: number): string {
  return text.split(/[\r\n]+/).map((l) => l.trim()).filter((l) => l && !/^(remote: )?(Counting|Compressing|Receiving|Resolving|Enumerating|Total)/.test(l)).slice(-n).join(' ');
}

function classify(e: unknown, remote: Remote, action: string): GitSyncError {
  if (e instanceof GitSyncError) return e;
  const scrub = (t: string) => scrubSecrets(t, remote.secrets);
  if (!(e instanceof GitError)) return new GitSyncError('clone_failed', scrub(`Could not ${action} ${remote.display}: ${(e as Error)?.message ?? String(e)}`));
  const detail = scrub(lastLines(e.stderr || e.message, 2));
  const said = detail ? ` (git: ${detail})` : '';
  if (e.reason === 'cancelled') return new GitSyncError('cancelled', `The ${action} of ${remote.display} was cancelled.`);
  if (e.reason === 'timeout') return new GitSyncError('timeout', `The ${action} of ${remote.display} timed out.`);
  const text = `${e.stderr}\n${e.message}`;
  if (BRANCH_RE.test(text)) return new GitSyncError('branch_not_found', scrub(`Could not ${action} ${remote.display}: the branch does not exist on the remote${said}.`));
  if (RATE_RE.test(text)) return new GitSyncError('rate_limited', scrub(`Could not ${action} ${remote.display}: the git server is rate limiting Lettuce${said}.`));
  if (FORBIDDEN_RE.test(text)) return new GitSyncError('forbidden', scrub(`Could not ${action} ${remote.display}: the git server refused access${said}.`));
  if (AUTH_RE.test(text)) return new GitSyncError('auth_failed', scrub(`Could not ${action} ${remote.display}: authentication failed or access was denied${said}.`));
  if (GONE_RE.test(text)) return new GitSyncError('repo_gone', scrub(`Could not ${action} ${remote.display}: the repository was not found${said}.`));
  return new GitSyncError('clone_failed', scrub(`Could not ${action} ${remote.display}${said || `: ${scrub(e.message)}`}.`));
}

class Deadline {
  private readonly end: number;
  constructor(readonly timeoutMs: number) {
    this.end = Date.now() + Math.max(1, timeoutMs);
  }
  left(): number {
    const ms = this.end - Date.now();
    if (ms <= 0) throw new GitError('git timed out', null, 'timeout');
    return ms;
  }
}

function progressReporter(onProgress?: (phase: string) => void): ((text: string) => void) | undefined {
  if (!onProgress) return undefined;
  let last = '';
  return (chunk) => {
    for (const line of chunk.split(/[\r\n]+/)) {
      const m = /^(?:remote: )?([A-Za-z][A-Za-z ]+):\s+(\d+)%/.exec(line.trim());
      if (!m) continue;
      const phase = `${m[1]} ${m[2]}%`;
      if (phase === last) continue;
      last = phase;
      try {
        onProgress(phase);
      } catch {
        /* progress callbacks must not break a sync */
      }
    }
  };
}

/** `git ls-remote --symref` output: where HEAD points, HEAD's sha, and each asked branch's sha. */
export function parseLsRemote(out: string): RemoteInfo & { branches: Map<string, string> } {
  let defaultBranch: string | null = null;
  let head: string | null = null;
  const branches = new Map<string, string>();
  for (const line of out.split('\n')) {
    const sym = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (sym) defaultBranch = sym[1];
    const ref = /^([0-9a-f]{40,64})\t(HEAD|refs\/heads\/\S+)$/.exec(line);
    if (ref?.[2] === 'HEAD') head = ref[1];
    else if (ref) branches.set(ref[2].slice('refs/heads/'.length), ref[1]);
  }
  return { defaultBranch, head, branches };
}

async function lsRemote(remote: Remote, deadline: Deadline, signal?: AbortSignal, branch?: string | null): Promise<ReturnType<typeof parseLsRemote>> {
  const { stdout } = await execGit(buildLsRemoteArgs(remote.url, branch), {
    cwd: os.tmpdir(), env: remote.env, secrets: remote.secrets, timeoutMs: deadline.left(), signal,
  });
  return parseLsRemote(stdout);
}

// ------------------------------------------------------------------ probe

/** Asks the remote for its default branch and head (`git ls-remote --symref <url> HEAD`). */
export async function probeRemote(opts: RemoteOptions): Promise<RemoteInfo> {
  const remote = prepareRemote(opts);
  try {
    if (opts.signal?.aborted) throw new GitError('cancelled', null, 'cancelled');
    const { defaultBranch, head } = await lsRemote(remote, new Deadline(opts.timeoutMs), opts.signal);
    return { defaultBranch, head };
  } catch (e) {
    throw classify(e, remote, 'probe');
  }
}

export interface MainBranchHead {
  /** The remote's main branch (where its HEAD points), or the branch asked about when HEAD says nothing. */
  branch: string | null;
  /** That branch's head; null when the remote has no such branch (or no commits). */
  head: string | null;
}

/**
 * One ref listing (`git ls-remote --symref <url> HEAD refs/heads/<branch>`): the remote's main
 * branch and its head, without fetching anything. `branch` is the one we know; if HEAD points
 * elsewhere, the main branch has changed and HEAD's sha is the new main branch's head.
 */
export async function mainBranchHead(opts: RemoteOptions & { branch: string | null }): Promise<MainBranchHead> {
  const remote = prepareRemote(opts);
  const known = opts.branch && isValidBranchName(opts.branch) ? opts.branch : null;
  try {
    if (opts.signal?.aborted) throw new GitError('cancelled', null, 'cancelled');
    const info = await lsRemote(remote, new Deadline(opts.timeoutMs), opts.signal, known);
    if (info.defaultBranch && info.defaultBranch !== known) return { branch: info.defaultBranch, head: info.head };
    return { branch: known ?? info.defaultBranch, head: (known && info.branches.get(known)) ?? info.head };
  } catch (e) {
    throw classify(e, remote, 'list the branches of');
  }
}

// ------------------------------------------------------------------ sync

interface LocalState {
  branch: string | null;
  head: string | null;
}

/** The state of an existing clone, or null when `dir` holds no usable repository. */
async function inspect(dir: string, deadline: Deadline, signal?: AbortSignal): Promise<LocalState | null> {
  if (!existsSync(dir)) return null;
  const git = (args: string[]) => execGit([`--git-dir=${dir}`, ...args], { timeoutMs: Math.min(deadline.left(), 30_000), signal });
  try {
    const bare = (await git(['rev-parse', '--is-bare-repository'])).stdout.trim();
    if (bare !== 'true') return null;
    const branch = (await git(['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim() || null;
    if (!branch) return null;
    const head = (await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])).stdout.trim();
    if (!head) return null;
    await git(['cat-file', '-e', `${head}^{tree}`]);
    return { branch, head };
  } catch (e) {
    if (e instanceof GitError && (e.reason === 'cancelled' || e.reason === 'timeout')) throw e;
    return null;
  }
}

/** Removes lock files a killed git left behind (syncs of one dir are serialised by the caller). */
async function removeStaleLocks(dir: string): Promise<void> {
  const walk = async (d: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isFile() && e.name.endsWith('.lock')) await fs.rm(p, { force: true });
      else if (e.isDirectory() && depth > 0 && (d !== dir || e.name === 'refs')) await walk(p, depth - 1);
    }
  };
  await walk(dir, 6);
}

/** What a fetch may change, recorded before it so a fetch stopped for MAX_REPO_SIZE can be undone. */
interface FetchSnapshot {
  packDir: string;
  packs: Set<string>;
  /** The branch's sha before the fetch; null when the clone had no such branch. */
  ref: string | null;
  refName: string;
  /** The `shallow` file (a depth-1 fetch rewrites it); null when there was none. */
  shallow: Buffer | null;
}

type LocalGit = (args: string[]) => Promise<{ stdout: string }>;

async function snapshot(dir: string, branch: string, local: LocalGit): Promise<FetchSnapshot> {
  const packDir = path.join(dir, 'objects', 'pack');
  const refName = `refs/heads/${branch}`;
  return {
    packDir,
    packs: new Set(await fs.readdir(packDir).catch(() => [] as string[])),
    ref: (await local(['rev-parse', '--verify', '--quiet', `${refName}^{commit}`]).catch(() => ({ stdout: '' }))).stdout.trim() || null,
    refName,
    shallow: await fs.readFile(path.join(dir, 'shallow')).catch(() => null),
  };
}

/** Files a stopped index-pack leaves: never referenced, always safe to remove. */
async function removeTempPacks(before: FetchSnapshot): Promise<void> {
  const names = await fs.readdir(before.packDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith('tmp_') && !before.packs.has(n)).map((n) => fs.rm(path.join(before.packDir, n), { force: true })));
}

/**
 * Undoes a fetch stopped (or finished) past MAX_REPO_SIZE: the branch back where it was, the
 * `shallow` file as it was, and every pack file the fetch added removed (with auto maintenance
 * off, the fetch only ever adds packs, and the objects the old refs need are all in the old ones).
 */
async function rollBack(dir: string, before: FetchSnapshot, local: LocalGit): Promise<void> {
  await removeStaleLocks(dir);
  if (before.ref) await local(['update-ref', '--no-deref', before.refName, before.ref]);
  else await local(['update-ref', '--no-deref', '-d', before.refName]).catch(() => undefined);
  const shallow = path.join(dir, 'shallow');
  if (before.shallow) await fs.writeFile(shallow, before.shallow);
  else await fs.rm(shallow, { force: true });
  const names = await fs.readdir(before.packDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => !before.packs.has(n)).map((n) => fs.rm(path.join(before.packDir, n), { force: true })));
}

async function clone(dir: string, remote: Remote, branch: string | null, opts: SyncOptions, deadline: Deadline): Promise<SyncResult> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await removeTmpSiblings(dir);
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
  const tmp = `${dir}.tmp-${crypto.randomBytes(6).toString('hex')}`;
  const limit = opts.maxSizeBytes ?? 0;
  try {
    opts.onProgress?.('cloning');
    try {
      await execGit(buildCloneArgs(remote.url, tmp, branch, Boolean(opts.onProgress)), {
        cwd: path.dirname(dir), env: remote.env, secrets: remote.secrets, timeoutMs: deadline.left(), signal: opts.signal,
        onStderr: progressReporter(opts.onProgress),
        sizeLimit: limit > 0 ? { maxBytes: limit, measure: () => dirBytes(tmp), intervalMs: SIZE_CHECK_INTERVAL_MS } : undefined,
      });
      // A transfer can finish between two measurements.
      if (limit > 0 && (await dirBytes(tmp)) > limit) throw new GitError('the clone is larger than the limit', null, 'too_large');
    } catch (e) {
      if (e instanceof GitError && e.reason === 'too_large') throw tooLarge(limit, 'clone');
      throw e;
    }
    const local = (args: string[]) => execGit([`--git-dir=${tmp}`, ...args], { timeoutMs: deadline.left(), signal: opts.signal });
    const actual = branch ?? ((await local(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => ({ stdout: '' }))).stdout.trim() || null);
    const head = actual
      ? (await local(['rev-parse', '--verify', '--quiet', `refs/heads/${actual}^{commit}`]).catch(() => ({ stdout: '' }))).stdout.trim()
      : '';
    if (!actual || !head) throw new GitSyncError('empty_repo', `The repository ${remote.display} has no commits${branch ? ` on ${branch}` : ''}.`);
    await fs.rename(tmp, dir);
    opts.onProgress?.('done');
    return { head, branch: actual, fresh: true };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function fetchInto(dir: string, state: LocalState, remote: Remote, branch: string, opts: SyncOptions, deadline: Deadline): Promise<SyncResult> {
  const local = (args: string[]) => execGit([`--git-dir=${dir}`, ...args], { timeoutMs: deadline.left(), signal: opts.signal });
  await removeStaleLocks(dir);
  // Keep the previous head reachable, so gc never prunes what a diff against it needs.
  const previous = (await local(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]).catch(() => ({ stdout: '' }))).stdout.trim() || state.head;
  if (previous) await local(['update-ref', 'refs/lettuce/previous', previous]);
  const configured = (await local(['config', '--get', 'remote.origin.url']).catch(() => ({ stdout: '' }))).stdout.trim();
  if (configured !== remote.url) await local(['config', 'remote.origin.url', remote.url]);
  const before = await snapshot(dir, branch, local);
  const limit = opts.maxSizeBytes ?? 0;
  // The fetch writes one pack (fetch.unpackLimit=1) under objects/pack; the rest barely changes.
  const rest = limit > 0 ? (await dirBytes(dir)) - (await dirBytes(before.packDir)) : 0;
  opts.onProgress?.('fetching');
  try {
    await execGit(buildFetchArgs(dir, remote.url, branch, Boolean(opts.onProgress)), {
      cwd: dir, env: remote.env, secrets: remote.secrets, timeoutMs: deadline.left(), signal: opts.signal,
      onStderr: progressReporter(opts.onProgress),
      sizeLimit: limit > 0 ? { maxBytes: limit, measure: async () => rest + (await dirBytes(before.packDir)), intervalMs: SIZE_CHECK_INTERVAL_MS } : undefined,
    });
    if (limit > 0 && (await dirBytes(dir)) > limit) throw new GitError('the clone is larger than the limit', null, 'too_large');
  } catch (e) {
    if (e instanceof GitError && e.reason === 'too_large') {
      await rollBack(dir, before, local);
      throw tooLarge(limit, 'fetch');
    }
    await removeTempPacks(before);
    throw e;
  }
  // Auto maintenance is off during the fetch (it could repack what a roll-back removes): run it now.
  await local(['-c', 'gc.autoDetach=false', 'gc', '--auto', '--quiet']).catch(() => undefined);
  const head = (await local(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])).stdout.trim();
  if (!head) throw new GitSyncError('clone_failed', `The fetch of ${remote.display} left no ${branch} branch.`);
  if (state.branch !== branch) await local(['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  opts.onProgress?.('done');
  return { head, branch, fresh: false };
}

/**
 * Clones (first time, or when `dir` holds no usable repository) or fetches `branch` (default:
 * the remote's default branch) into the bare repository `dir`, and returns its new head.
 * Syncs of one `dir` must not run concurrently (the caller serialises them per repo).
 */
export async function syncRepo(opts: SyncOptions): Promise<SyncResult> {
  const remote = prepareRemote(opts);
  const dir = path.resolve(opts.dir);
  // A directory that is not a clone is removed and recloned: make sure it is one of ours.
  if (!dir.endsWith('.git') || path.basename(dir) === '.git') {
    throw new GitSyncError('clone_failed', 'The clone directory must be named <something>.git (see repoDir).');
  }
  if (opts.branch != null && !isValidBranchName(opts.branch)) {
    throw new GitSyncError('branch_not_found', 'The branch name is not a valid git branch name.');
  }
  const limit = opts.maxSizeBytes ?? 0;
  if (limit > 0 && opts.reportedSizeBytes != null && opts.reportedSizeBytes > limit) throw tooLarge(limit, 'reported', opts.reportedSizeBytes);
  const deadline = new Deadline(opts.timeoutMs);
  let action = 'clone';
  try {
    if (opts.signal?.aborted) throw new GitError('cancelled', null, 'cancelled');
    const state = await inspect(dir, deadline, opts.signal);
    if (!state) return await clone(dir, remote, opts.branch ?? null, opts, deadline);
    action = 'fetch';
    let branch = opts.branch ?? null;
    if (!branch) {
      opts.onProgress?.('probing');
      const info = await lsRemote(remote, deadline, opts.signal);
      if (!info.head) throw new GitSyncError('empty_repo', `The repository ${remote.display} has no commits.`);
      branch = info.defaultBranch ?? state.branch;
    }
    if (!branch || !isValidBranchName(branch)) throw new GitSyncError('clone_failed', `Could not tell the default branch of ${remote.display}.`);
    return await fetchInto(dir, state, remote, branch, opts, deadline);
  } catch (e) {
    throw classify(e, remote, action);
  }
}

// What a build has to do, from git: every indexable file of the commit (full), or the paths the
// diff from the base commit touches (incremental: the copy from the base generation leaves them
// out, and the new versions are work items).
import { blobSizes, diffRaw, IndexGitError, lsTree } from './git';
import { tooManyFiles, type IndexLimits } from './limits';
import { isSkippedPath } from './paths';

export interface WorkItem {
  path: string;
  sha: string;
  size: number;
}

export interface Plan {
  kind: 'full' | 'incremental';
  items: WorkItem[];
  /** Paths whose rows the copy from the base generation leaves out (incremental). */
  removed: string[];
  /** Blob shas that the new generation may no longer reference (incremental GC candidates). */
  oldShas: string[];
  filesChanged: number;
}

function isRegularFile(mode: string): boolean {
  return mode === '100644' || mode === '100755' || mode === '100664';
}

/** Every regular, not skipped file of `commit`. */
export async function planFull(gitDir: string, commit: string, limits: IndexLimits, signal?: AbortSignal): Promise<Plan> {
  const items: WorkItem[] = [];
  for (const e of await lsTree(gitDir, commit, signal)) {
    if (e.type !== 'blob' || !isRegularFile(e.mode) || isSkippedPath(e.path)) continue;
    items.push({ path: e.path, sha: e.sha, size: e.size ?? 0 });
  }
  if (items.length > limits.maxFiles) throw tooManyFiles(items.length, limits);
  return { kind: 'full', items, removed: [], oldShas: [], filesChanged: items.length };
}

/** The changes from `baseCommit` to `commit` (`git diff --raw`, no renames). */
export async function planIncremental(gitDir: string, baseCommit: string, commit: string, signal?: AbortSignal): Promise<Plan> {
  const diff = await diffRaw(gitDir, baseCommit, commit, signal);
  const removed: string[] = [];
  const oldShas: string[] = [];
  const added: Array<{ path: string; sha: string }> = [];
  for (const d of diff) {
    if (isSkippedPath(d.path)) continue;
    removed.push(d.path);
    if (!/^0+$/.test(d.oldSha)) oldShas.push(d.oldSha);
    if (d.status !== 'D' && isRegularFile(d.newMode)) added.push({ path: d.path, sha: d.newSha });
  }
  const sizes = await blobSizes(gitDir, [...new Set(added.map((a) => a.sha))], signal);
  const items = added.map((a) => {
    const size = sizes.get(a.sha);
    if (size === undefined) throw new IndexGitError(`git object ${a.sha} (${a.path}) is missing`);
    return { ...a, size };
  });
  return { kind: 'incremental', items, removed, oldShas, filesChanged: removed.length };
}

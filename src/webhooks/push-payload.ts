// What a `repo:push` delivery means for the repo (CONTRACT §8), read from the shapes Bitbucket
// really sends: several changes in one push, `new: null` for a deleted branch or tag (with no
// `commits` or `links`), tags with null `tagger`/`date`, `truncated: true`, a `repository` without
// `slug`. Only a change to the main branch moves the index; a change to another branch, or the
// main branch's deletion, only hints that the main branch may have been renamed.

/** The receiver's verdict on one push, also the delivery row's outcome. */
export type PushOutcome = 'accepted' | 'other_branch' | 'other_ref';

export interface PushSummary {
  outcome: PushOutcome;
  /** The main branch's new head, when the push named a plausible one. */
  commit: string | null;
  /**
   * For a hint, the branch that gave it. The workflow knows the main branch better than a receiver
   * whose copy may be a few seconds old: a push to this branch may be a main-branch push after all.
   */
  branch: string | null;
}

interface RefState {
  type?: unknown;
  name?: unknown;
  target?: { hash?: unknown } | null;
}

interface PushChange {
  new?: RefState | null;
  old?: RefState | null;
}

const HASH = /^[0-9a-f]{7,64}$/i;

const isBranch = (ref: RefState | null | undefined): ref is RefState => ref?.type === 'branch' && typeof ref.name === 'string';

/**
 * `mainBranch` is the repo's stored main branch (null when unknown: then every branch change
 * hints). In a push with several changes, the main branch's counts.
 */
export function summarizePush(changes: readonly unknown[], mainBranch: string | null): PushSummary {
  let hint: string | null = null;
  for (const raw of changes) {
    if (!raw || typeof raw !== 'object') continue;
    const change = raw as PushChange;
    if (isBranch(change.new) && change.new.name === mainBranch) {
      const hash = change.new.target?.hash;
      return { outcome: 'accepted', commit: typeof hash === 'string' && HASH.test(hash) ? hash : null, branch: mainBranch };
    }
    // Another branch created or moved, or the main branch deleted: the main branch may have changed.
    if (isBranch(change.new)) hint ??= change.new.name as string;
    else if (change.new == null && isBranch(change.old) && (change.old.name === mainBranch || mainBranch === null)) hint ??= change.old.name as string;
  }
  return { outcome: hint !== null ? 'other_branch' : 'other_ref', commit: null, branch: hint };
}

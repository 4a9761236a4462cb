// What a `repo:push` delivery means for the repo (CONTRACT §8), read from the shapes Bitbucket
// really sends: several changes in one push, `new: null` for a deleted branch or tag (with no
// `commits` or `links`), tags with null `tagger`/`date`, `truncated: true`, a `repository` without
// `slug`. Only a change to the main branch moves the index; a change to another branch, or the
// main branch's deletion, only hints that the main branch may have been renamed.
import { NOT_JSON, scanJson, type Shape } from './json-scan';

/** What the receiver reads of a `repo:push` body: which repo, and its changes. */
export interface PushDelivery {
  repositoryUuid: string | null;
  /** `repository.full_name`, lower-cased. */
  fullName: string | null;
  changes: readonly unknown[];
}

const REF: Shape = { keys: { type: {}, name: {}, target: { keys: { hash: {} } } } };
/** The parts of a push body the receiver reads (summarizePush below); nothing else is built. */
const PUSH_SHAPE: Shape = {
  keys: {
    repository: { keys: { uuid: {}, full_name: {} } },
    push: { keys: { changes: { items: { keys: { new: REF, old: REF } } } } },
  },
};

/**
 * Reads a `repo:push` body; null when it is not one (not JSON, or no `push.changes` list). Every
 * byte is checked — a malformed body must be refused (CONTRACT §8) — but only the fields read
 * here are built (src/webhooks/json-scan.ts), not the commits, authors and links around them.
 */
export function readPushDelivery(raw: Buffer): PushDelivery | null {
  const payload = scanJson(raw, PUSH_SHAPE) as { repository?: { uuid?: unknown; full_name?: unknown }; push?: { changes?: unknown } } | null | typeof NOT_JSON;
  if (payload === NOT_JSON || !payload || typeof payload !== 'object' || !Array.isArray(payload.push?.changes)) return null;
  const { uuid, full_name: fullName } = payload.repository ?? {};
  return {
    repositoryUuid: typeof uuid === 'string' ? uuid : null,
    fullName: typeof fullName === 'string' ? fullName.toLowerCase() : null,
    changes: payload.push.changes,
  };
}

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

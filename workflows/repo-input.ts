// The repo workflow's input and what it carries across continue-as-new, in this version
// (repo-state.ts) and the one before it (repo-v1.ts). Types only: the three modules share them
// without importing one another.

export interface RepoWorkflowInput {
  repoId: string;
  /** REPO_RECONCILE_INTERVAL in ms when the workflow was started (0 = off); each check brings the worker's current value. */
  reconcileIntervalMs?: number;
  /** Carried across continueAsNew (from this version, or from repo-v1's). */
  carried?: RepoCarried | V1Carried;
  /** Only read by repo-v1. */
  pushDebounceMs?: number;
}

export interface RepoCarried {
  registered: boolean;
  source: 'bitbucket' | 'url' | null;
  /** The main branch as the last check or index run found it (null until then). */
  mainBranch: string | null;
  lastIndexedCommit: string | null;
  /** The error code the repo last failed with (null once an index succeeds). */
  failedWith: string | null;
  /** Waiting for a reconnect: the last failure was one only a reconnect fixes. */
  parked: boolean;
  pushPending: boolean;
  reindexRequested: boolean;
  webhookRecheck: boolean;
  /** A push touched another branch (or deleted the main one): the main branch may have changed. */
  mainBranchHint: boolean;
  recentDeliveries: string[];
  /** Heads pushes announced lately. */
  announced: string[];
  /** A head a check found that no push had announced (yet): if none does by the next check, the webhook missed it. */
  unannounced: string | null;
  /** Workflow time (epoch ms) the next reconcile is due; null = reconcile off. */
  reconcileDueAt: number | null;
  mainBranchCheckedAt: number;
  reconcileIntervalMs: number;
  /** Workflow time before which no background check runs (the git host answered 429). */
  backoffUntil: number;
}

/** What this version carried across continue-as-new (the current code reads it too). */
export interface V1Carried {
  registered: boolean;
  source: 'bitbucket' | 'url' | null;
  pendingPushes: number;
  reindexRequested: boolean;
  lastIndexedCommit: string | null;
  recentDeliveries: string[];
}

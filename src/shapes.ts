// The answers of the routes a client reads (CONTRACT §4–§7, §13), as TypeScript types: the bottom floor
// their bodies against these, and the web UI (web/) imports them, so both sides share one definition.
// Types only: the browser's type check reads this file, so it imports nothing that needs Node.
import type { RequiredScope } from './bitbucket/scopes';

export type Role = 'owner' | 'member';

export interface UserView {
  id: string;
  email: string;
  role: Role;
}

export interface AccountView {
  id: string;
  name: string;
}

/** GET /v1/me */
export interface MeView {
  user: UserView;
  account: AccountView;
}

/** The scopes Lettuce's OAuth consumer must have (CONTRACT §5). */
export type BitbucketScope = RequiredScope;

/** GET /v1/integrations/bitbucket */
export interface BitbucketStatusView {
  configured: boolean;
  connected: boolean;
  needsReauth: boolean;
  bitbucketUser: { uuid: string; displayName: string } | null;
  connectedAt: string | null;
  /** The consumer's scopes the grant lacks; `[]` when complete or not connected. */
  missingScopes: BitbucketScope[];
}

/** POST /v1/integrations/bitbucket/install */
export interface InstallView {
  authorizeUrl: string;
}

/** Where the OAuth callback sends the browser: `/repos?bitbucket=connected` or `?bitbucket_error=<code>`. */
export type BitbucketCallbackError = 'invalid_state' | 'access_denied' | 'exchange_failed' | 'consumer_not_private';

export interface PickableRepoView {
  fullName: string;
  workspace: string;
  slug: string;
  name: string;
  isPrivate: boolean;
  uuid: string;
  added: boolean;
}

/** GET /v1/integrations/bitbucket/repos */
export interface PickerView {
  repos: PickableRepoView[];
  message: string | null;
}

export type RepoStatus = 'pending' | 'indexing' | 'ready' | 'failed';

/** A synced workspace (CONTRACT §13). */
export interface WorkspaceView {
  workspace: string;
  name: string;
  exclude: string[];
  status: 'syncing' | 'synced' | 'failed';
  repos: { total: number; pending: number; indexing: number; ready: number; failed: number };
  webhook: { scope: 'workspace' | 'repo'; status: 'active' | 'failed' | 'none'; error: string | null };
  lastSyncedAt: string | null;
  error: { code: string; message: string } | null;
  createdAt: string;
}

/** POST /v1/integrations/bitbucket/workspaces */
export interface SyncWorkspaceRequest {
  workspace: string;
  exclude?: string[];
}

/** GET /v1/integrations/bitbucket/workspaces */
export interface WorkspaceList {
  workspaces: WorkspaceView[];
}

/** The repo object (CONTRACT §6). */
export interface RepoView {
  id: string;
  source: 'bitbucket' | 'url';
  name: string;
  /** Never carries credentials. */
  cloneUrl: string;
  isPrivate: boolean;
  defaultBranch: string | null;
  status: RepoStatus;
  webhook: { status: 'none' | 'active' | 'failed'; error: string | null };
  lastIndexedCommit: string | null;
  lastIndexedAt: string | null;
  error: { code: string; message: string } | null;
  /** Only while indexing. */
  progress?: { filesDone: number; filesTotal: number };
  /** The synced workspace (CONTRACT §13) the repo belongs to; null for repos added by hand. */
  syncedFrom: string | null;
  createdAt: string;
}

/** POST/PATCH /v1/repos…, GET /v1/repos/{id} */
export interface RepoEnvelope {
  repo: RepoView;
}

/** GET /v1/repos */
export interface RepoList {
  repos: RepoView[];
}

/** POST /v1/repos */
export type AddRepoRequest = { bitbucket: string } | { url: string };

export interface TreeEntryView {
  name: string;
  path: string;
  type: 'file' | 'dir';
  size: number | null;
  language: string | null;
}

/** GET /v1/repos/{id}/tree */
export interface TreeView {
  commit: string;
  path: string;
  entries: TreeEntryView[];
}

/** GET /v1/repos/{id}/file */
export interface FileView {
  commit: string;
  path: string;
  language: string | null;
  size: number;
  content: string;
}

/** A result of the per-repo search as it was before CONTRACT §14 (lines only): src/indexer's searchCode gives it. */
export interface SearchResultView {
  path: string;
  line: number;
  column: number;
  preview: string;
}

/** searchCode's answer (src/indexer); GET /v1/repos/{id}/search answers RepoCodeSearchView. */
export interface SearchView {
  commit: string;
  results: SearchResultView[];
}

/** One result of the code search (CONTRACT §14). */
export interface CodeSearchResultView {
  repo: { id: string; name: string };
  path: string;
  /** 1-based; 0 for a match in the file's path (then `preview` is the path). */
  line: number;
  /** The first match's start (1-based, in code points within `preview`); 0 with `line` 0. */
  column: number;
  preview: string;
  /** [start, end) of each match: 1-based offsets in code points within `preview`, end exclusive. */
  matches: Array<[number, number]>;
}

export interface CodeSearchStatsView {
  /** Repos and files searched after the index narrowed them. */
  repos: number;
  files: number;
  /** Results may be missing: the limit or the deadline was hit. */
  truncated: boolean;
}

/** GET /v1/search (every repo of the account) */
export interface CodeSearchView {
  results: CodeSearchResultView[];
  stats: CodeSearchStatsView;
}

/** GET /v1/repos/{id}/search (CONTRACT §7, §14) */
export interface RepoCodeSearchView extends CodeSearchView {
  commit: string;
}

export interface SymbolView {
  name: string;
  kind: string;
  path: string;
  line: number;
}

/** GET /v1/repos/{id}/symbols */
export interface SymbolsView {
  commit: string;
  symbols: SymbolView[];
}

/** Every error (CONTRACT §2). */
export interface ErrorBody {
  error: { code: string; message: string };
}

// Every sentence the UI shows about Bitbucket, repo and workspace states, in the words of CONTRACT §5–§7, §13 and
// the seed, in one place.
import type { BitbucketCallbackError, BitbucketScope, RepoView, WorkspaceView } from '../../src/shapes';
import { REQUIRED_SCOPES } from '../../src/bitbucket/scopes';

export interface Notice {
  kind: 'success' | 'error';
  text: string;
}

export const CALLBACK_NOTICES: Record<'connected' | BitbucketCallbackError, Notice> = {
  connected: { kind: 'success', text: 'Bitbucket connected' },
  invalid_state: { kind: 'error', text: 'Invalid or expired install state — restart the install from the Add-repo dialog.' },
  access_denied: { kind: 'error', text: 'Bitbucket access was denied. To connect, start again and press Grant access on Bitbucket.' },
  exchange_failed: {
    kind: 'error',
    text: "Connecting Bitbucket failed: the code exchange failed. Try again; if it keeps failing, ask your operator to check Lettuce's OAuth consumer (key, secret and callback URL).",
  },
  consumer_not_private: { kind: 'error', text: "Lettuce's Bitbucket OAuth consumer must be private: ask your operator to tick 'This is a private consumer'." },
};

/** The query parameters the OAuth callback's redirect carries (CONTRACT §5). */
export const CALLBACK_PARAMS = ['bitbucket', 'bitbucket_error'] as const;

/** The notice for the callback's query, or null when the URL carries none. */
export function callbackNotice(params: URLSearchParams): Notice | null {
  if (params.get('bitbucket') === 'connected') return CALLBACK_NOTICES.connected;
  const code = params.get('bitbucket_error');
  if (code === null) return null;
  if (Object.hasOwn(CALLBACK_NOTICES, code) && code !== 'connected') return CALLBACK_NOTICES[code as BitbucketCallbackError];
  return { kind: 'error', text: 'Connecting Bitbucket failed. Try again from the Add-repo dialog.' };
}

/** The consumer permissions, as Bitbucket's consumer form names them (the seed's words): the server's table. */
export const SCOPE_NAMES = Object.fromEntries(REQUIRED_SCOPES.map((r) => [r.scope, r.permission])) as Record<BitbucketScope, string>;

/** What a user loses without each permission. */
export const SCOPE_CONSEQUENCES: Record<BitbucketScope, string> = {
  account: 'Lettuce cannot read who connected or which workspaces you belong to',
  team: 'the Add-repo dialog may miss some of your workspaces',
  project: "Lettuce cannot read your workspaces' projects",
  repository: 'Lettuce cannot list or clone your repos',
  'repository:write': 'the grant is narrower than Lettuce asks for',
  webhook: 'pushes will not refresh your repos',
};

export const missingScopeSentence = (scope: BitbucketScope) => `Lettuce's Bitbucket consumer lacks ${SCOPE_NAMES[scope]}: ${SCOPE_CONSEQUENCES[scope]}.`;

export const NOT_CONFIGURED =
  "Bitbucket is not set up on this server: the operator has not configured Lettuce's OAuth consumer (BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET).";
export const NEEDS_REAUTH = "Bitbucket needs to be reconnected: Lettuce's authorization was revoked or expired, so your Bitbucket repos cannot be listed or refreshed.";
export const OWNER_ONLY_DISCONNECT = 'Only an owner of the account can disconnect Bitbucket.';

/** Error codes a reconnect fixes (CONTRACT §6: such repos retry by themselves afterwards). */
export const FIXED_BY_RECONNECT = new Set(['needs_reauth', 'not_connected']);

/** The status as the repo list shows it: `indexing (n of m files)` while the index builds. */
export function statusLabel(repo: RepoView): string {
  if (repo.status === 'indexing' && repo.progress) return `indexing (${repo.progress.filesDone} of ${repo.progress.filesTotal} files)`;
  return repo.status;
}

export function webhookLabel(repo: RepoView): string {
  if (repo.webhook.status === 'failed') return `failed: ${repo.webhook.error ?? 'Lettuce could not create the webhook.'}`;
  if (repo.webhook.status === 'active') return 'active';
  return repo.source === 'url' ? 'none (pasted URL: re-index after a push)' : 'not yet';
}

// ---- Whole workspaces (CONTRACT §13)

export const OWNER_ONLY_WORKSPACES = 'Only an owner of the account can sync a whole workspace or stop syncing one.';
export const MAX_EXCLUDE_PATTERNS = 100;

/** The exclude field's text as patterns: separated by commas or new lines, blanks dropped, each once. */
export function parseExcludes(text: string): string[] {
  return [...new Set(text.split(/[,\n]/).map((p) => p.trim()).filter((p) => p !== ''))];
}

/**
 * The server's rule (CONTRACT §13), for the dialog's preview: `*` any run of characters, `?` one,
 * the whole slug, case-insensitive.
 */
export function excluder(patterns: readonly string[]): (slug: string) => boolean {
  if (patterns.length === 0) return () => false;
  const alternatives = patterns.map((p) => p.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join(''));
  const re = new RegExp(`^(?:${alternatives.join('|')})$`, 'is');
  return (slug) => re.test(slug);
}

/** Why a workspace could not be synced, in the contract's words, with what to do about it. */
export function workspaceErrorText(workspace: string, err: { code: string; message: string }): string {
  switch (err.code) {
    case 'forbidden':
      return OWNER_ONLY_WORKSPACES;
    case 'bitbucket_workspace_not_found':
      return `Bitbucket has no workspace ${workspace} that the connected user is a member of: it was renamed or deleted, or they left it.`;
    case 'not_connected':
      return 'Bitbucket is not connected: connect it on the Bitbucket tab, then try again.';
    case 'needs_reauth':
      return NEEDS_REAUTH;
    default:
      return err.message;
  }
}

/** "114 of 120 ready", and how many failed when any did. */
export function workspaceProgress(w: WorkspaceView): string {
  if (w.repos.total === 0) return w.status === 'syncing' ? 'listing the workspace…' : 'no repos to sync';
  return `${w.repos.ready} of ${w.repos.total} ready${w.repos.failed > 0 ? `, ${w.repos.failed} failed` : ''}`;
}

/** The workspace's webhooks: one workspace webhook (the connected user owns the workspace) or one per repo. */
export function workspaceWebhookLabel(w: WorkspaceView): string {
  const { scope, status, error } = w.webhook;
  if (scope === 'workspace') {
    if (status === 'failed') return `workspace webhook failed: ${error ?? 'Lettuce could not create it.'}`;
    return status === 'active' ? 'one workspace webhook' : 'one workspace webhook: not yet';
  }
  if (status === 'failed') return `per-repo webhooks: ${error ?? 'Lettuce could not create some of them.'}`;
  // Before the first listing the scope is not decided yet: `repo` with no hook is just "not yet".
  return status === 'active' ? 'per-repo webhooks, all active' : 'not yet';
}

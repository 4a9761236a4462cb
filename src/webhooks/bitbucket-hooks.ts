// The `repo:push` webhook Lettuce owns on a Bitbucket repo: found by its URL (one per account),
// reused and repaired when present, created otherwise — so retries and restarts never make two.
import type { DataSource } from 'typeorm';
import type { BitbucketClient, BitbucketHook } from '../bitbucket/client';
import { BitbucketApiError, IntegrationError } from '../bitbucket/errors';
import { findInstallation } from '../bitbucket/installations';
import type { BitbucketIntegration } from '../bitbucket/integration';
import type { Config } from '../config';
import { Repo } from '../db/entities';
import type { SecretBox } from '../security/secret-box';
import { readWebhookSecret } from './account-secret';

export function webhookUrl(config: Config, accountId: string): string {
  return `${config.publicUrl}/v1/webhooks/bitbucket/${accountId}`;
}

export interface WebhookDeps {
  ds: DataSource;
  box: SecretBox;
  config: Config;
  bitbucket: BitbucketIntegration;
}

function hooksPath(repo: Repo): string {
  return `/repositories/${encodeURIComponent(repo.bitbucketWorkspace!)}/${encodeURIComponent(repo.bitbucketSlug!)}/hooks`;
}

/** Until a webhook works, what still refreshes the repo: the reconcile (CONTRACT §11), or only Re-index. */
function meanwhile(config: Config): string {
  const ms = config.repoReconcileIntervalMs;
  if (ms === 0) return 'The repo is indexed, but pushes will not refresh it until then (use Re-index meanwhile).';
  const [n, unit] = ms % 3_600_000 === 0 ? [ms / 3_600_000, 'hour'] : ms % 60_000 === 0 ? [ms / 60_000, 'minute'] : [Math.round(ms / 1000), 'second'];
  return `The repo is indexed and checked for new commits every ${n === 1 ? unit : `${n} ${unit}s`} meanwhile, so pushes reach it late.`;
}

/** The consumer lacks the Webhooks permission (Bitbucket's 403 names the missing scope). */
export const missingWebhookScopeMessage = (name: string, config: Config) =>
  `Lettuce could not create the push webhook on ${name}: Lettuce's Bitbucket OAuth consumer lacks the "Webhooks: Read and write" permission. ` +
  `Ask your operator to add it to the consumer, then reconnect Bitbucket: the webhook is then created by itself. ${meanwhile(config)}`;

/** The connected user is not an admin of the repo (Bitbucket lets only repo admins manage webhooks). */
export const notRepoAdminMessage = (name: string, config: Config) =>
  `Lettuce could not create the push webhook on ${name}: the connected Bitbucket user is not an admin of this repository, and only repo admins can add webhooks. ` +
  `Ask a repo admin to connect Bitbucket (or make the connected user an admin), then reconnect. ${meanwhile(config)}`;

/** The hook Lettuce sets (the secret cannot be read back from Bitbucket, so it is always sent). */
export async function desiredHook(deps: WebhookDeps, accountId: string): Promise<{ description: string; url: string; active: true; events: string[]; secret: string }> {
  const secret = await readWebhookSecret(deps.ds, deps.box, accountId);
  if (secret === null) throw new Error(`account ${accountId} does not exist`);
  return { description: 'Lettuce: re-index on push', url: webhookUrl(deps.config, accountId), active: true, events: ['repo:push'], secret };
}

/**
 * Finds our hook among those listed at `path` (by its URL), repairs it (or creates it) and deletes
 * duplicates: retries and restarts never make two. The hook's uuid.
 */
export async function upsertHook(client: BitbucketClient, path: string, desired: Awaited<ReturnType<typeof desiredHook>>): Promise<string | null> {
  const hooks = await client.collect<BitbucketHook>(`${path}?pagelen=100`);
  const ours = hooks.filter((h) => h.url === desired.url);
  if (ours.length > 0) {
    await client.request('PUT', `${path}/${encodeURIComponent(ours[0].uuid)}`, desired);
    for (const extra of ours.slice(1)) await client.request('DELETE', `${path}/${encodeURIComponent(extra.uuid)}`);
    return ours[0].uuid;
  }
  const created = await client.request<BitbucketHook>('POST', path, desired);
  return created.data?.uuid ?? null;
}

/** Whether an active workspace webhook of the account covers the repo's workspace (CONTRACT §13). */
async function coveredByWorkspaceHook(ds: DataSource, repo: Repo): Promise<boolean> {
  if (!repo.bitbucketWorkspace) return false;
  const rows: unknown[] = await ds.query(
    `SELECT 1 FROM synced_workspaces WHERE account_id = $1 AND lower(workspace) = lower($2) AND stopped_at IS NULL
        AND webhook_scope = 'workspace' AND webhook_status = 'active'`,
    [repo.accountId, repo.bitbucketWorkspace],
  );
  return rows.length > 0;
}

/**
 * Makes sure pushes to the repo reach us. A repo of a workspace covered by our workspace webhook
 * needs no hook of its own (one we made before is removed). A repo of a synced workspace without
 * one gets its hook from the workspace's sync, paced within the REST budget, unless `now`.
 */
export async function ensureWebhook(repo: Repo, deps: WebhookDeps, opts: { now?: boolean } = {}): Promise<{ status: 'active' | 'failed' | 'none'; error: string | null }> {
  const record = async (status: 'active' | 'failed', error: string | null, uuid: string | null) => {
    await deps.ds.getRepository(Repo).update({ id: repo.id }, { webhookStatus: status, webhookError: error, webhookUuid: uuid });
    return { status, error };
  };
  if (await coveredByWorkspaceHook(deps.ds, repo)) {
    if (repo.webhookUuid) await removeKnownHook(repo, deps).catch(() => undefined); // best effort: a leftover hook only duplicates deliveries, which are folded
    return record('active', null, null);
  }
  if (repo.syncedFrom && !opts.now) return { status: repo.webhookStatus, error: repo.webhookError };
  const installation = await findInstallation(deps.ds, repo.accountId);
  if (!installation) return record('failed', `Bitbucket is not connected, so no push webhook could be created on ${repo.name}: reconnect Bitbucket. ${meanwhile(deps.config)}`, null);
  const client = deps.bitbucket.clientFor(installation.id, installation.accountId);
  try {
    return record('active', null, await upsertHook(client, hooksPath(repo), await desiredHook(deps, repo.accountId)));
  } catch (err) {
    if (err instanceof BitbucketApiError && err.status === 403) {
      return record('failed', err.lacksScopes ? missingWebhookScopeMessage(repo.name, deps.config) : notRepoAdminMessage(repo.name, deps.config), null);
    }
    // Lasting problems (needs_reauth, not connected) are the repo's webhook status, not a crash.
    if (err instanceof IntegrationError && !err.retryable) return record('failed', `The webhook could not be checked: ${err.message}`, null);
    throw err;
  }
}

/** Best effort: a repo being deleted should not leave our hook behind, but nothing waits on it. */
export async function removeWebhook(repo: Repo, deps: WebhookDeps): Promise<void> {
  if (repo.source !== 'bitbucket' || !repo.bitbucketWorkspace) return;
  const installation = await findInstallation(deps.ds, repo.accountId);
  if (!installation) return;
  const client = deps.bitbucket.clientFor(installation.id, installation.accountId);
  const url = webhookUrl(deps.config, repo.accountId);
  // Other live repos of the account do not share this repo's hooks (hooks are per repo), so ours go.
  const hooks = await client.collect<BitbucketHook>(`${hooksPath(repo)}?pagelen=100`);
  for (const hook of hooks.filter((h) => h.url === url)) {
    await client.request('DELETE', `${hooksPath(repo)}/${encodeURIComponent(hook.uuid)}`);
  }
}

/** Deletes the repo hook we recorded making (one call: no listing). */
export async function removeKnownHook(repo: Repo, deps: WebhookDeps): Promise<void> {
  if (!repo.webhookUuid || !repo.bitbucketWorkspace) return;
  const client = deps.bitbucket.clientForAccount(repo.accountId);
  await client.request('DELETE', `${hooksPath(repo)}/${encodeURIComponent(repo.webhookUuid)}`).catch((err: unknown) => {
    if (!(err instanceof BitbucketApiError && err.status === 404)) throw err;
  });
}

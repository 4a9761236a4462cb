// The `repo:push` webhook Lettuce owns on a Bitbucket repo: found by its URL (one per account),
// reused and repaired when present, created otherwise — so retries and restarts never make two.
import type { DataSource } from 'typeorm';
import type { BitbucketHook } from '../bitbucket/client';
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

export async function ensureWebhook(repo: Repo, deps: WebhookDeps): Promise<{ status: 'active' | 'failed'; error: string | null }> {
  const installation = await findInstallation(deps.ds, repo.accountId);
  const record = async (status: 'active' | 'failed', error: string | null, uuid: string | null) => {
    await deps.ds.getRepository(Repo).update({ id: repo.id }, { webhookStatus: status, webhookError: error, webhookUuid: uuid });
    return { status, error };
  };
  if (!installation) return record('failed', `Bitbucket is not connected, so no push webhook could be created on ${repo.name}: reconnect Bitbucket. ${meanwhile(deps.config)}`, null);
  const client = deps.bitbucket.clientFor(installation.id);
  const url = webhookUrl(deps.config, repo.accountId);
  const secret = await readWebhookSecret(deps.ds, deps.box, repo.accountId);
  if (secret === null) throw new Error(`account ${repo.accountId} of repo ${repo.id} does not exist`);
  const desired = { description: 'Lettuce: re-index on push', url, active: true, events: ['repo:push'], secret };
  try {
    const hooks = await client.collect<BitbucketHook>(`${hooksPath(repo)}?pagelen=100`);
    const ours = hooks.filter((h) => h.url === url);
    if (ours.length > 0) {
      // Repair whatever drifted (the secret cannot be read back, so it is always re-set).
      await client.request('PUT', `${hooksPath(repo)}/${encodeURIComponent(ours[0].uuid)}`, desired);
      for (const extra of ours.slice(1)) await client.request('DELETE', `${hooksPath(repo)}/${encodeURIComponent(extra.uuid)}`);
      return record('active', null, ours[0].uuid);
    }
    const created = await client.request<BitbucketHook>('POST', hooksPath(repo), desired);
    return record('active', null, created.data?.uuid ?? null);
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
  const client = deps.bitbucket.clientFor(installation.id);
  const url = webhookUrl(deps.config, repo.accountId);
  // Other live repos of the account do not share this repo's hooks (hooks are per repo), so ours go.
  const hooks = await client.collect<BitbucketHook>(`${hooksPath(repo)}?pagelen=100`);
  for (const hook of hooks.filter((h) => h.url === url)) {
    await client.request('DELETE', `${hooksPath(repo)}/${encodeURIComponent(hook.uuid)}`);
  }
}

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

const FORBIDDEN_MESSAGE = (name: string) =>
  `Lettuce could not create the push webhook on ${name}: Bitbucket requires the connected user to be an admin of this repository. ` +
  'The repo is indexed, but pushes will not refresh it until a repo admin connects Bitbucket (or use Re-index).';

export async function ensureWebhook(repo: Repo, deps: WebhookDeps): Promise<{ status: 'active' | 'failed'; error: string | null }> {
  const installation = await findInstallation(deps.ds, repo.accountId);
  const record = async (status: 'active' | 'failed', error: string | null, uuid: string | null) => {
    await deps.ds.getRepository(Repo).update({ id: repo.id }, { webhookStatus: status, webhookError: error, webhookUuid: uuid });
    return { status, error };
  };
  if (!installation) return record('failed', 'Bitbucket is not connected, so no webhook could be created.', null);
  const client = deps.bitbucket.clientFor(installation.id);
  const url = webhookUrl(deps.config, repo.accountId);
  const [{ webhook_secret }] = await deps.ds.query(`SELECT webhook_secret FROM accounts WHERE id = $1`, [repo.accountId]);
  const desired = { description: 'Lettuce: re-index on push', url, active: true, events: ['repo:push'], secret: deps.box.open(webhook_secret) };
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
    if (err instanceof BitbucketApiError && err.status === 403) return record('failed', FORBIDDEN_MESSAGE(repo.name), null);
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

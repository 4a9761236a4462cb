// Webhooks of a synced workspace (CONTRACT §13). When the connected user owns the workspace, one
// workspace webhook covers every repo in it (two calls: a listing and a create or repair) and the
// repo hooks we made there go; otherwise each synced repo gets its own hook (two calls each),
// created here in the background, paced by the REST budget rather than by 1,000 repo workflows
// competing for it. Losing ownership (a 403) falls back to repo hooks.
import { BitbucketApiError } from '../bitbucket/errors';
import { RestBudgetSpentError } from '../bitbucket/rest-budget';
import { Repo } from '../db/entities';
import { returning } from '../db/returning';
import type { SecretBox } from '../security/secret-box';
import { desiredHook, ensureWebhook, removeKnownHook, upsertHook } from '../webhooks/bitbucket-hooks';
import { syncedRow, WorkspaceNotFoundError, type WorkspaceSyncDeps } from './workspace-sync';

export type WorkspaceHookDeps = WorkspaceSyncDeps & { box: SecretBox };

const hooksPath = (workspace: string) => `/workspaces/${encodeURIComponent(workspace)}/hooks`;

/** Sets up the workspace webhook if the user may, else falls back to repo hooks; the scope chosen (null: not synced). */
export async function ensureWorkspaceWebhook(deps: WorkspaceHookDeps, accountId: string, workspace: string): Promise<'workspace' | 'repo' | null> {
  const row = await syncedRow(deps.ds, accountId, workspace);
  if (!row) return null;
  const client = deps.bitbucket.clientForAccount(accountId);
  const access = await client.workspaceAccess(row.workspace);
  if (!access) throw new WorkspaceNotFoundError(row.workspace);
  const record = (scope: 'workspace' | 'repo', status: 'active' | 'failed' | 'none', uuid: string | null, error: string | null = null) =>
    deps.ds.query(`UPDATE synced_workspaces SET webhook_scope = $2, webhook_status = $3, webhook_uuid = $4, webhook_error = $5, updated_at = now() WHERE id = $1`, [row.id, scope, status, uuid, error]);
  if (access.administrator) {
    try {
      const uuid = await upsertHook(client, hooksPath(row.workspace), await desiredHook(deps, accountId));
      await record('workspace', 'active', uuid);
      return 'workspace';
    } catch (err) {
      if (!(err instanceof BitbucketApiError && err.status === 403)) throw err;
      // Not an owner after all (or the consumer lacks the webhook scope): repo hooks say which.
    }
  }
  if (row.webhookScope === 'workspace') {
    // Ownership lost: the workspace hook can no longer be managed (nor, probably, deleted), and
    // the repos it covered need hooks of their own.
    if (row.webhookUuid) await client.request('DELETE', `${hooksPath(row.workspace)}/${encodeURIComponent(row.webhookUuid)}`).catch(() => undefined);
    await uncoverRepos(deps, accountId, row.workspace);
  }
  await record('repo', 'none', null);
  return 'repo';
}

/** Repos the workspace hook covered go back to having no hook (their own is then made). Their ids. */
export async function uncoverRepos(deps: WorkspaceSyncDeps, accountId: string, workspace: string): Promise<string[]> {
  const rows = await returning<{ id: string }>(
    deps.ds,
    `UPDATE repos SET webhook_status = 'none', webhook_error = NULL
      WHERE account_id = $1 AND lower(bitbucket_workspace) = lower($2) AND source = 'bitbucket' AND deleted_at IS NULL
        AND webhook_status = 'active' AND webhook_uuid IS NULL
      RETURNING id`,
    [accountId, workspace],
  );
  return rows.map((r) => r.id);
}

export interface CoverResult {
  /** Repos still to be covered. */
  remaining: number;
  /** The REST budget is spent for background work: try again after this long. */
  waitMs: number;
}

/**
 * Covers the workspace's repos with a webhook, for at most `forMs`: with a workspace hook, every
 * repo of the workspace is marked covered at once and our old repo hooks are deleted one call
 * each; otherwise each synced repo without a hook gets one. `retryFailed` tries failed ones again
 * (after a reconnect: the new grant may carry the permission).
 */
export async function coverRepos(deps: WorkspaceHookDeps, accountId: string, workspace: string, opts: { forMs: number; retryFailed?: boolean; onProgress?: () => void }): Promise<CoverResult> {
  const row = await syncedRow(deps.ds, accountId, workspace);
  if (!row) return { remaining: 0, waitMs: 0 };
  const repos = deps.ds.getRepository(Repo);
  const until = Date.now() + opts.forMs;
  if (opts.retryFailed) {
    await deps.ds.query(
      `UPDATE repos SET webhook_status = 'none' WHERE account_id = $1 AND lower(synced_from) = lower($2) AND deleted_at IS NULL AND webhook_status = 'failed'`,
      [accountId, row.workspace],
    );
  }
  const waiting = async (): Promise<Repo[]> =>
    row.webhookScope === 'workspace'
      ? repos.createQueryBuilder('r')
          .where('r.account_id = :accountId AND lower(r.bitbucket_workspace) = lower(:ws) AND r.source = :bb AND r.deleted_at IS NULL', { accountId, ws: row.workspace, bb: 'bitbucket' })
          .andWhere('r.webhook_uuid IS NOT NULL')
          .orderBy('r.created_at').limit(50).getMany()
      : repos.createQueryBuilder('r')
          .where('r.account_id = :accountId AND lower(r.synced_from) = lower(:ws) AND r.source = :bb AND r.deleted_at IS NULL', { accountId, ws: row.workspace, bb: 'bitbucket' })
          .andWhere(`r.webhook_status = 'none'`)
          .orderBy('r.created_at').limit(50).getMany();
  const count = async (): Promise<number> => {
    const [{ n }]: Array<{ n: number }> = await deps.ds.query(
      row.webhookScope === 'workspace'
        ? `SELECT count(*)::int AS n FROM repos WHERE account_id = $1 AND lower(bitbucket_workspace) = lower($2) AND source = 'bitbucket' AND deleted_at IS NULL AND webhook_uuid IS NOT NULL`
        : `SELECT count(*)::int AS n FROM repos WHERE account_id = $1 AND lower(synced_from) = lower($2) AND source = 'bitbucket' AND deleted_at IS NULL AND webhook_status = 'none'`,
      [accountId, row.workspace],
    );
    return n;
  };
  if (row.webhookScope === 'workspace') {
    await deps.ds.query(
      `UPDATE repos SET webhook_status = 'active', webhook_error = NULL
        WHERE account_id = $1 AND lower(bitbucket_workspace) = lower($2) AND source = 'bitbucket' AND deleted_at IS NULL
          AND webhook_uuid IS NULL AND webhook_status <> 'active'`,
      [accountId, row.workspace],
    );
  }
  try {
    for (let batch = await waiting(); batch.length > 0 && Date.now() < until; batch = await waiting()) {
      for (const repo of batch) {
        if (Date.now() >= until) break;
        if (row.webhookScope === 'workspace') {
          await removeKnownHook(repo, deps).catch((err: unknown) => {
            if (err instanceof RestBudgetSpentError) throw err;
          });
          await repos.update({ id: repo.id }, { webhookStatus: 'active', webhookError: null, webhookUuid: null });
        } else {
          await ensureWebhook(repo, deps, { now: true });
        }
        opts.onProgress?.();
      }
    }
  } catch (err) {
    if (err instanceof RestBudgetSpentError) return { remaining: await count(), waitMs: err.waitMs };
    throw err;
  }
  return { remaining: await count(), waitMs: 0 };
}

/**
 * Carries out "Stop syncing" once the route has hidden the workspace: deletes our workspace
 * webhook (best effort) and the row. The repos it covered (their ids) need their own hooks again.
 * `resumed` when the workspace was synced again meanwhile: nothing is undone.
 */
export async function finishStop(deps: WorkspaceHookDeps, accountId: string, workspace: string): Promise<{ resumed: boolean; uncovered: string[] }> {
  const rows: Array<{ id: string; workspace: string; webhook_uuid: string | null; stopped_at: Date | null }> = await deps.ds.query(
    `SELECT id, workspace, webhook_uuid, stopped_at FROM synced_workspaces WHERE account_id = $1 AND lower(workspace) = lower($2)`,
    [accountId, workspace],
  );
  const row = rows[0];
  if (!row) return { resumed: false, uncovered: [] };
  if (!row.stopped_at) return { resumed: true, uncovered: [] };
  if (row.webhook_uuid) {
    try {
      await deps.bitbucket.clientForAccount(accountId).request('DELETE', `${hooksPath(row.workspace)}/${encodeURIComponent(row.webhook_uuid)}`);
    } catch (err) {
      if (err instanceof RestBudgetSpentError) throw err; // retried once the budget has room
      // Gone already, ownership lost, Bitbucket disconnected: nothing more can be done about it.
    }
  }
  const deleted = await returning(deps.ds, `DELETE FROM synced_workspaces WHERE id = $1 AND stopped_at IS NOT NULL RETURNING id`, [row.id]);
  if (deleted.length === 0) return { resumed: true, uncovered: [] };
  return { resumed: false, uncovered: row.webhook_uuid ? await uncoverRepos(deps, accountId, row.workspace) : [] };
}

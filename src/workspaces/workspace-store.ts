// Reading and writing synced workspaces (CONTRACT §13) and their object: the repo counts are
// read with the row, so they are current whenever read. A workspace being stopped (stopped_at)
// is invisible here.
import type { DataSource } from 'typeorm';
import type { WorkspaceView } from '../shapes';
import { returning } from '../db/returning';

interface WorkspaceRow {
  id: string;
  account_id: string;
  workspace: string;
  name: string;
  exclude: string[];
  webhook_scope: 'workspace' | 'repo';
  webhook_status: 'none' | 'active' | 'failed';
  webhook_error: string | null;
  last_synced_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  total: number;
  pending: number;
  indexing: number;
  ready: number;
  failed: number;
  hooks_active: number;
  hooks_failed: number;
  hooks_not_admin: number;
  hooks_no_scope: number;
}

const SELECT_WITH_COUNTS = `
  SELECT w.id, w.account_id, w.workspace, w.name, w.exclude, w.webhook_scope, w.webhook_status, w.webhook_error,
         w.last_synced_at, w.error_code, w.error_message, w.created_at,
         count(r.id)::int AS total,
         count(r.id) FILTER (WHERE r.status = 'pending')::int AS pending,
         count(r.id) FILTER (WHERE r.status = 'indexing')::int AS indexing,
         count(r.id) FILTER (WHERE r.status = 'ready')::int AS ready,
         count(r.id) FILTER (WHERE r.status = 'failed')::int AS failed,
         count(r.id) FILTER (WHERE r.webhook_status = 'active')::int AS hooks_active,
         count(r.id) FILTER (WHERE r.webhook_status = 'failed')::int AS hooks_failed,
         count(r.id) FILTER (WHERE r.webhook_status = 'failed' AND r.webhook_error LIKE '%is not an admin%')::int AS hooks_not_admin,
         count(r.id) FILTER (WHERE r.webhook_status = 'failed' AND r.webhook_error LIKE '%lacks the "Webhooks%')::int AS hooks_no_scope
    FROM synced_workspaces w
    LEFT JOIN repos r ON r.account_id = w.account_id AND lower(r.synced_from) = lower(w.workspace) AND r.deleted_at IS NULL
   WHERE w.account_id = $1 AND w.stopped_at IS NULL`;

export async function listWorkspaces(ds: DataSource, accountId: string): Promise<WorkspaceView[]> {
  const rows: WorkspaceRow[] = await ds.query(`${SELECT_WITH_COUNTS} GROUP BY w.id ORDER BY lower(w.workspace)`, [accountId]);
  return rows.map(presentWorkspace);
}

export async function findWorkspace(ds: DataSource, accountId: string, workspace: string): Promise<WorkspaceView | null> {
  const rows: WorkspaceRow[] = await ds.query(`${SELECT_WITH_COUNTS} AND lower(w.workspace) = lower($2) GROUP BY w.id`, [accountId, workspace]);
  return rows[0] ? presentWorkspace(rows[0]) : null;
}

/**
 * Starts syncing a workspace, or replaces the exclude patterns of one already synced (also one
 * whose stop is still being carried out: it syncs again). `created` false = it was synced.
 */
export async function upsertWorkspace(
  ds: DataSource,
  values: { accountId: string; workspace: string; name: string; exclude: string[]; taskQueuePrefix: string },
): Promise<{ created: boolean }> {
  const rows: Array<{ created: boolean }> = await ds.query(
    `WITH prior AS (SELECT stopped_at FROM synced_workspaces WHERE account_id = $1 AND lower(workspace) = lower($2))
     INSERT INTO synced_workspaces (account_id, workspace, name, exclude, task_queue_prefix) VALUES ($1, $2, $3, $4::jsonb, $5)
     ON CONFLICT (account_id, lower(workspace)) DO UPDATE
        SET exclude = EXCLUDED.exclude, name = EXCLUDED.name, updated_at = now(), stopped_at = NULL,
            last_synced_at = CASE WHEN synced_workspaces.stopped_at IS NULL THEN synced_workspaces.last_synced_at END
     RETURNING (SELECT count(*) = 0 OR bool_and(stopped_at IS NOT NULL) FROM prior) AS created`,
    [values.accountId, values.workspace, values.name, JSON.stringify(values.exclude), values.taskQueuePrefix],
  );
  return { created: rows[0].created };
}

/**
 * "Stop syncing": the workspace disappears from reads and its repos become ordinary repos at once
 * (one transaction); its workflow then removes the workspace webhook and deletes the row.
 * False when the account does not sync it.
 */
export async function stopWorkspace(ds: DataSource, accountId: string, workspace: string): Promise<boolean> {
  return ds.transaction(async (tx) => {
    const stopped = await returning<{ id: string }>(
      tx,
      `UPDATE synced_workspaces SET stopped_at = now(), updated_at = now() WHERE account_id = $1 AND lower(workspace) = lower($2) AND stopped_at IS NULL RETURNING id`,
      [accountId, workspace],
    );
    if (stopped.length === 0) return false;
    await tx.query(`UPDATE repos SET synced_from = NULL WHERE account_id = $1 AND lower(synced_from) = lower($2)`, [accountId, workspace]);
    return true;
  });
}

function workspaceWebhook(row: WorkspaceRow): WorkspaceView['webhook'] {
  if (row.webhook_scope === 'workspace') return { scope: 'workspace', status: row.webhook_status, error: row.webhook_error };
  if (row.total === 0 || row.hooks_active === row.total) return { scope: 'repo', status: row.total === 0 ? 'none' : 'active', error: null };
  if (row.hooks_failed > 0) {
    const causes = [
      row.hooks_not_admin > 0 ? `the connected Bitbucket user is not an admin of ${row.hooks_not_admin} of them` : null,
      row.hooks_no_scope > 0 ? `Lettuce's OAuth consumer lacks "Webhooks: Read and write" for ${row.hooks_no_scope}` : null,
      row.hooks_failed - row.hooks_not_admin - row.hooks_no_scope > 0 ? `${row.hooks_failed - row.hooks_not_admin - row.hooks_no_scope} could not be checked` : null,
    ].filter(Boolean);
    return {
      scope: 'repo',
      status: 'failed',
      error: `${row.hooks_failed} of ${row.total} repos have no push webhook: ${causes.join('; ')}. A workspace owner who connects Bitbucket gets one workspace webhook for all of them; meanwhile those repos are refreshed by the periodic check.`,
    };
  }
  return { scope: 'repo', status: 'none', error: `${row.hooks_active} of ${row.total} repos have their push webhook; the others are being created within Bitbucket's rate limit.` };
}

export function presentWorkspace(row: WorkspaceRow): WorkspaceView {
  const settled = row.last_synced_at !== null && row.pending === 0 && row.indexing === 0;
  return {
    workspace: row.workspace,
    name: row.name,
    exclude: row.exclude,
    status: row.error_code ? 'failed' : settled ? 'synced' : 'syncing',
    repos: { total: row.total, pending: row.pending, indexing: row.indexing, ready: row.ready, failed: row.failed },
    webhook: workspaceWebhook(row),
    lastSyncedAt: row.last_synced_at ? new Date(row.last_synced_at).toISOString() : null,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

// One pass of a workspace's sync (CONTRACT §13), apart from Temporal: list the workspace's repos
// (role=contributor, pagelen 100: ⌈N/100⌉ calls), diff against what the account has, register new
// repos from the listing's own data (no lookup per repo), adopt repos added by hand, release repos
// now excluded, and name the vanished ones for a check. New rows wait for their workflow
// (workflow_started_at NULL): the RepoStarter starts them, a few per account at a time.
import type { DataSource } from 'typeorm';
import { BitbucketApiError } from '../bitbucket/errors';
import type { BitbucketIntegration } from '../bitbucket/integration';
import type { BitbucketRepository } from '../bitbucket/client';
import type { Config } from '../config';
import { bitbucketCloneUrl, bitbucketSourceKey } from '../repos/add-repo';
import { returning } from '../db/returning';
import { TypedFailureError } from '../failures';
import { excluder } from './exclude';

export interface WorkspaceSyncDeps {
  ds: DataSource;
  config: Config;
  bitbucket: BitbucketIntegration;
}

export interface SyncedRow {
  id: string;
  accountId: string;
  workspace: string;
  exclude: string[];
  webhookScope: 'workspace' | 'repo';
  webhookUuid: string | null;
}

export interface ListingResult {
  listed: number;
  selected: number;
  added: number;
  adopted: number;
  released: number;
  /** Repos of the workspace that the listing no longer shows: each is checked (repo_gone if it is). */
  vanished: string[];
}

/** The workspace is unknown, or the connected user is not a member of it. */
export class WorkspaceNotFoundError extends TypedFailureError {
  constructor(workspace: string) {
    super('BitbucketRefused', `No Bitbucket workspace ${workspace} is visible to the connected user.`);
  }
}

/** The workspace row, unless it is not synced (never was, or stopped). */
export async function syncedRow(ds: DataSource, accountId: string, workspace: string): Promise<SyncedRow | null> {
  const rows: Array<{ id: string; account_id: string; workspace: string; exclude: string[]; webhook_scope: 'workspace' | 'repo'; webhook_uuid: string | null }> = await ds.query(
    `SELECT id, account_id, workspace, exclude, webhook_scope, webhook_uuid FROM synced_workspaces
      WHERE account_id = $1 AND lower(workspace) = lower($2) AND stopped_at IS NULL`,
    [accountId, workspace],
  );
  const r = rows[0];
  return r ? { id: r.id, accountId: r.account_id, workspace: r.workspace, exclude: r.exclude, webhookScope: r.webhook_scope, webhookUuid: r.webhook_uuid } : null;
}

/** Lists the workspace and brings the account's repos in line with it; null when it is no longer synced. */
export async function syncListing(deps: WorkspaceSyncDeps, accountId: string, workspace: string): Promise<ListingResult | null> {
  const row = await syncedRow(deps.ds, accountId, workspace);
  if (!row) return null;
  const client = deps.bitbucket.clientForAccount(accountId);
  // A user who left the workspace would list it as empty (every repo "vanished"): ask first
  // (/user/workspaces is not a rate-limited resource).
  if (!(await client.workspaceAccess(row.workspace))) throw new WorkspaceNotFoundError(row.workspace);
  let listing: BitbucketRepository[];
  try {
    listing = await client.contributorRepositories(row.workspace);
  } catch (err) {
    if (err instanceof BitbucketApiError && [403, 404, 410].includes(err.status)) throw new WorkspaceNotFoundError(row.workspace);
    throw err;
  }
  const isExcluded = excluder(row.exclude);
  const listed = listing.map((r) => {
    const [ws, slugFromName] = r.full_name.split('/');
    const slug = r.slug ?? slugFromName;
    return {
      key: bitbucketSourceKey(ws, slug),
      name: r.full_name,
      workspace: ws,
      slug,
      uuid: r.uuid,
      cloneUrl: bitbucketCloneUrl(deps.config, r),
      isPrivate: r.is_private,
      defaultBranch: r.mainbranch?.name ?? null,
      size: typeof r.size === 'number' && Number.isFinite(r.size) && r.size > 0 ? Math.round(r.size) : null,
      selected: !isExcluded(slug),
    };
  });
  const selected = listed.filter((r) => r.selected);
  const col = <K extends keyof (typeof selected)[number]>(k: K) => selected.map((r) => r[k]);

  return deps.ds.transaction(async (tx) => {
    // A repo renamed on Bitbucket keeps its uuid: the row follows the new name rather than a copy being added.
    await tx.query(
      `UPDATE repos r SET name = t.name, source_key = t.key, bitbucket_slug = t.slug, clone_url = t.clone
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(uuid, key, name, slug, clone)
        WHERE r.account_id = $1 AND r.deleted_at IS NULL AND r.source = 'bitbucket' AND r.bitbucket_uuid = t.uuid AND r.source_key <> t.key
          AND NOT EXISTS (SELECT 1 FROM repos o WHERE o.account_id = $1 AND o.source_key = t.key AND o.deleted_at IS NULL)`,
      [accountId, col('uuid'), col('key'), col('name'), col('slug'), col('cloneUrl')],
    );
    const inserted: Array<{ id: string }> = await tx.query(
      `INSERT INTO repos (account_id, source, source_key, name, clone_url, is_private, default_branch,
                          bitbucket_workspace, bitbucket_slug, bitbucket_uuid, reported_size, synced_from, workflow_started_at, task_queue_prefix)
       SELECT $1, 'bitbucket', t.key, t.name, t.clone, t.private, t.branch, t.ws, t.slug, t.uuid, t.size, $2, NULL, $12
         FROM unnest($3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
              AS t(key, name, clone, private, branch, ws, slug, uuid, size)
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [accountId, row.workspace, col('key'), col('name'), col('cloneUrl'), col('isPrivate'), col('defaultBranch'), col('workspace'), col('slug'), col('uuid'), col('size'), deps.config.taskQueuePrefix],
    );
    const adopted = await returning<{ id: string }>(
      tx,
      `UPDATE repos SET synced_from = $2
        WHERE account_id = $1 AND deleted_at IS NULL AND source = 'bitbucket' AND source_key = ANY($3::text[]) AND synced_from IS DISTINCT FROM $2
        RETURNING id`,
      [accountId, row.workspace, col('key')],
    );
    await tx.query(
      `UPDATE repos SET is_private = t.private FROM unnest($2::text[], $3::boolean[]) AS t(key, private)
        WHERE account_id = $1 AND deleted_at IS NULL AND source = 'bitbucket' AND source_key = t.key AND is_private <> t.private`,
      [accountId, col('key'), col('isPrivate')],
    );
    const released = await returning<{ id: string }>(
      tx,
      `UPDATE repos SET synced_from = NULL
        WHERE account_id = $1 AND lower(synced_from) = lower($2) AND deleted_at IS NULL AND source_key = ANY($3::text[])
        RETURNING id`,
      [accountId, row.workspace, listed.filter((r) => !r.selected).map((r) => r.key)],
    );
    const vanished: Array<{ id: string }> = await tx.query(
      `SELECT id FROM repos
        WHERE account_id = $1 AND lower(synced_from) = lower($2) AND deleted_at IS NULL AND NOT (source_key = ANY($3::text[]))
          AND NOT (status = 'failed' AND error_code = 'repo_gone')`,
      [accountId, row.workspace, listed.map((r) => r.key)],
    );
    await tx.query(`UPDATE synced_workspaces SET last_synced_at = now(), error_code = NULL, error_message = NULL, updated_at = now() WHERE id = $1`, [row.id]);
    return {
      listed: listed.length,
      selected: selected.length,
      added: inserted.length,
      adopted: adopted.length,
      released: released.length,
      vanished: vanished.map((r) => r.id),
    };
  });
}

/** A listing that failed for good (needs_reauth, not connected, the workspace gone) is the workspace's error. */
export async function recordSyncFailure(ds: DataSource, accountId: string, workspace: string, code: string, message: string): Promise<void> {
  await ds.query(
    `UPDATE synced_workspaces SET error_code = $3, error_message = $4, updated_at = now() WHERE account_id = $1 AND lower(workspace) = lower($2) AND stopped_at IS NULL`,
    [accountId, workspace, code, message.slice(0, 1000)],
  );
}

// Reading and writing repo rows, and the repo object of CONTRACT §6. Deleted rows (deleted_at)
// are invisible to every read here.
import type { DataSource } from 'typeorm';
import { Repo } from '../db/entities';
import type { RepoView } from '../shapes';

export function findLiveRepo(ds: DataSource, repoId: string, accountId?: string): Promise<Repo | null> {
  const qb = ds.getRepository(Repo).createQueryBuilder('r').where('r.id = :repoId AND r.deleted_at IS NULL', { repoId });
  if (accountId) qb.andWhere('r.account_id = :accountId', { accountId });
  return qb.getOne();
}

/**
 * A repos row as PostgreSQL returns it (`RETURNING *`, `SELECT *`) as the entity, through the
 * entity's own column map: the add path's statements are plain SQL, since TypeORM's query building
 * cost more than the statements themselves when fifty adds arrive at once.
 */
function repoFromRow(ds: DataSource, row: Record<string, unknown>): Repo {
  const repo = ds.getRepository(Repo).create();
  for (const column of ds.getMetadata(Repo).columns) (repo as unknown as Record<string, unknown>)[column.propertyName] = row[column.databaseName] ?? null;
  return repo;
}

/** The account's live repo with this source key (CONTRACT §6: adding it twice finds it). */
export async function findBySourceKey(ds: DataSource, accountId: string, sourceKey: string): Promise<Repo | null> {
  const rows: Array<Record<string, unknown>> = await ds.query(`SELECT * FROM repos WHERE account_id = $1 AND source_key = $2 AND deleted_at IS NULL`, [accountId, sourceKey]);
  return rows[0] ? repoFromRow(ds, rows[0]) : null;
}

/** Inserts a repo unless the account has it already (same source key): the new row, or null. */
export async function insertRepo(ds: DataSource, values: Partial<Repo>): Promise<Repo | null> {
  const columns = ds.getMetadata(Repo).columns.filter((c) => (values as Record<string, unknown>)[c.propertyName] !== undefined);
  const rows: Array<Record<string, unknown>> = await ds.query(
    `INSERT INTO repos (${columns.map((c) => c.databaseName).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING RETURNING *`,
    columns.map((c) => (values as Record<string, unknown>)[c.propertyName]),
  );
  return rows[0] ? repoFromRow(ds, rows[0]) : null;
}

export function listLiveRepos(ds: DataSource, accountId: string): Promise<Repo[]> {
  return ds.getRepository(Repo).createQueryBuilder('r').where('r.account_id = :accountId AND r.deleted_at IS NULL', { accountId }).orderBy('r.created_at', 'ASC').getMany();
}

// A repo's status is written here only, by the activities of its workflow (the workflow decides,
// the row shows): indexing when a run starts, ready with the commit it indexed, failed with a code.

export async function markIndexing(ds: DataSource, repoId: string): Promise<void> {
  await ds.getRepository(Repo).update({ id: repoId }, { status: 'indexing', progress: null });
}

export async function markReady(ds: DataSource, repoId: string, commit: string): Promise<void> {
  await ds.getRepository(Repo).update({ id: repoId }, { status: 'ready', lastIndexedCommit: commit, lastIndexedAt: new Date(), errorCode: null, errorMessage: null, progress: null });
}

export async function markFailed(ds: DataSource, repoId: string, code: string, message: string): Promise<void> {
  await ds.getRepository(Repo).update({ id: repoId }, { status: 'failed', errorCode: code, errorMessage: message.slice(0, 1000), progress: null });
}

/** The repo object of the contract: no credentials, ever. */
export function presentRepo(r: Repo): RepoView {
  return {
    id: r.id,
    source: r.source,
    name: r.name,
    cloneUrl: r.cloneUrl,
    isPrivate: r.isPrivate,
    defaultBranch: r.defaultBranch,
    status: r.status,
    webhook: { status: r.webhookStatus, error: r.webhookError },
    lastIndexedCommit: r.lastIndexedCommit,
    lastIndexedAt: r.lastIndexedAt ? r.lastIndexedAt.toISOString() : null,
    error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? '' } : null,
    ...(r.status === 'indexing' && r.progress ? { progress: r.progress } : {}),
    syncedFrom: r.syncedFrom,
    createdAt: r.createdAt.toISOString(),
  };
}

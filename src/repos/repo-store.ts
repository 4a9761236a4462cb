// Reading and writing repo rows, and the repo object of CONTRACT §6. Deleted rows (deleted_at)
// are invisible to every read here.
import type { DataSource } from 'typeorm';
import { Repo } from '../db/entities';
import type { RepoStatus } from '../db/entities/repo';
import type { RepoView } from '../api/shapes';

export function findLiveRepo(ds: DataSource, repoId: string, accountId?: string): Promise<Repo | null> {
  const qb = ds.getRepository(Repo).createQueryBuilder('r').where('r.id = :repoId AND r.deleted_at IS NULL', { repoId });
  if (accountId) qb.andWhere('r.account_id = :accountId', { accountId });
  return qb.getOne();
}

export function listLiveRepos(ds: DataSource, accountId: string): Promise<Repo[]> {
  return ds.getRepository(Repo).createQueryBuilder('r').where('r.account_id = :accountId AND r.deleted_at IS NULL', { accountId }).orderBy('r.created_at', 'ASC').getMany();
}

export async function setStatus(ds: DataSource, repoId: string, status: RepoStatus, extra: Partial<Pick<Repo, 'errorCode' | 'errorMessage' | 'progress'>> = {}): Promise<void> {
  await ds.getRepository(Repo).update({ id: repoId }, { status, ...extra });
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
    createdAt: r.createdAt.toISOString(),
  };
}

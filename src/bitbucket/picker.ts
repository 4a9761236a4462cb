// The repo picker: every repo the connected user can write to, across all of their workspaces
// (/2.0/user/workspaces, then /2.0/repositories/{ws}?role=contributor per workspace, a few in
// parallel), merged and sorted by full name.
import type { PickableRepoView } from '../shapes';
import type { BitbucketClient, BitbucketRepository } from './client';

export const WORKSPACE_CONCURRENCY = 4;

/** A picker entry as Bitbucket lists it; the route adds whether the account already has it. */
export type PickableRepo = Omit<PickableRepoView, 'added'>;

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(runners);
  return results;
}

export function toPickable(repo: BitbucketRepository): PickableRepo {
  const [workspace, slug] = repo.full_name.split('/');
  return { fullName: repo.full_name, workspace, slug: repo.slug ?? slug, name: repo.name, isPrivate: repo.is_private, uuid: repo.uuid };
}

export async function listPickableRepos(client: BitbucketClient): Promise<PickableRepo[]> {
  const workspaces = await client.workspaceSlugs();
  const perWorkspace = await mapBounded(workspaces, WORKSPACE_CONCURRENCY, (ws) => client.contributorRepositories(ws));
  const byUuid = new Map<string, PickableRepo>();
  for (const repo of perWorkspace.flat()) byUuid.set(repo.uuid, toPickable(repo));
  return [...byUuid.values()].sort((a, b) => (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0)); // code-point order, as Array.prototype.sort
}

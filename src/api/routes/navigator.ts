// The navigator (CONTRACT §7): tree, file, search and symbols of the last indexed commit.
// Before the first index: 409 not_indexed. Paths are normalised; `..` cannot escape the repo.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { findSymbols, IndexNotFoundError, InvalidPathError, InvalidQueryError, listTree, normalizeRepoPath, readFile } from '../../indexer';
import { codeSearch } from '../../search/code-search';
import type { RepoCodeSearchView } from '../../shapes';
import { findLiveRepo } from '../../repos/repo-store';
import { requireUser, sessionOf } from '../auth';
import { parseQuery } from '../body';
import type { AppDeps } from '../deps';
import { ApiError, errors } from '../errors';
import { isUuid } from '../ids';

const limit = z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50);
const pathQuery = z.object({ path: z.string().max(4096, 'must be at most 4096 characters').default('') });
export const searchQuery = z.object({
  q: z.string().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
  limit: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50),
});
const symbolsQuery = z.object({ q: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'), limit });

const notIndexed = () => new ApiError(409, 'not_indexed', 'This repo has no index yet; it is being cloned and indexed.');

export function navigatorRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/repos/:id' });
  router.use(requireUser(deps));

  async function ownRepo(ctx: Context) {
    const repo = isUuid(ctx.params.id) ? await findLiveRepo(deps.ds, ctx.params.id, sessionOf(ctx).account.id) : null;
    if (!repo) throw errors.notFound('repo');
    return repo;
  }
  const repoId = async (ctx: Context): Promise<string> => (await ownRepo(ctx)).id;

  function repoPath(raw: string): string {
    try {
      return normalizeRepoPath(raw);
    } catch (err) {
      if (err instanceof InvalidPathError) throw new ApiError(400, 'invalid_path', err.message);
      throw err;
    }
  }

  async function answer<T>(read: () => Promise<T | null>): Promise<T> {
    try {
      const result = await read();
      if (result === null) throw notIndexed();
      return result;
    } catch (err) {
      if (err instanceof IndexNotFoundError) throw new ApiError(404, 'not_found', err.message);
      if (err instanceof InvalidQueryError) throw errors.invalidRequest(err.message);
      throw err;
    }
  }

  router.get('/tree', async (ctx) => {
    const id = await repoId(ctx);
    const { path } = parseQuery(ctx, pathQuery);
    ctx.body = await answer(() => listTree(deps.ds, id, repoPath(path)));
  });

  router.get('/file', async (ctx) => {
    const id = await repoId(ctx);
    const { path } = parseQuery(ctx, pathQuery);
    const normalized = repoPath(path);
    if (!normalized) throw errors.invalidRequest('path: must name a file.');
    ctx.body = await answer(() => readFile(deps.ds, id, normalized));
  });

  router.get('/search', async (ctx) => {
    const repo = await ownRepo(ctx);
    const q = parseQuery(ctx, searchQuery);
    ctx.body = await answer(() =>
      deps.searches.run(repo.accountId, () =>
        deps.ds.transaction('REPEATABLE READ', async (m) => {
          const found = await codeSearch(m, [{ id: repo.id, name: repo.name }], q.q, q.limit);
          const commit = found.commits.get(repo.id);
          return commit ? ({ commit, results: found.results, stats: found.stats } satisfies RepoCodeSearchView) : null;
        }),
      ),
    );
  });

  router.get('/symbols', async (ctx) => {
    const id = await repoId(ctx);
    const q = parseQuery(ctx, symbolsQuery);
    ctx.body = await answer(() => findSymbols(deps.ds, id, q.q, q.limit));
  });

  return router;
}

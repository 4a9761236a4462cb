// Code search over every repo of the account that has an index (CONTRACT §14): one pass over all
// of their indexes (src/search/code-search.ts), at most two searches per account at once.
import Router from '@koa/router';
import { listLiveRepos } from '../../repos/repo-store';
import { codeSearch } from '../../search/code-search';
import { requireUser, sessionOf } from '../auth';
import { parseQuery } from '../body';
import type { AppDeps } from '../deps';
import type { CodeSearchView } from '../../shapes';
import { searchQuery } from './navigator';

export function searchRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/search' });
  router.use(requireUser(deps));
  router.get('/', async (ctx) => {
    const accountId = sessionOf(ctx).account.id;
    const q = parseQuery(ctx, searchQuery);
    // Only the account's repos are ever in scope: the search reads no index but theirs.
    const repos = (await listLiveRepos(deps.ds, accountId)).map((r) => ({ id: r.id, name: r.name }));
    const found = await deps.searches.run(accountId, () => deps.ds.transaction('REPEATABLE READ', (m) => codeSearch(m, repos, q.q, q.limit)));
    ctx.body = { results: found.results, stats: found.stats } satisfies CodeSearchView;
  });
  return router;
}

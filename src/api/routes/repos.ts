// Repos (CONTRACT §6) and the operator's view of a repo's workflow (§9). Anything with side
// effects goes through the repo's workflow; reads come from PostgreSQL.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { addRepo, switchToUrl } from '../../repos/add-repo';
import { findLiveRepo, listLiveRepos, presentRepo } from '../../repos/repo-store';
import { Repo } from '../../db/entities';
import { requireAdmin, requireUser, sessionOf } from '../auth';
import { readJson } from '../body';
import type { AppDeps } from '../deps';
import { errors } from '../errors';
import { isUuid } from '../ids';

const addBody = z
  .object({
    bitbucket: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, 'must be "workspace/slug"').optional(),
    url: z.string().max(4096, 'must be at most 4096 characters').optional(),
  })
  .strict()
  .refine((b) => (b.bitbucket === undefined) !== (b.url === undefined), { message: 'give exactly one of "bitbucket" or "url"' });

const patchBody = z.object({ url: z.string().max(4096, 'must be at most 4096 characters') }).strict();

export function repoRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/repos' });
  router.use(requireUser(deps));
  const adding = { ds: deps.ds, box: deps.box, config: deps.config, bitbucket: deps.bitbucket, starter: deps.starter };

  /** The caller's live repo, or 404 — another account's id looks exactly like a missing one. */
  async function ownRepo(ctx: Context): Promise<Repo> {
    const id = ctx.params.id;
    const repo = isUuid(id) ? await findLiveRepo(deps.ds, id, sessionOf(ctx).account.id) : null;
    if (!repo) throw errors.notFound('repo');
    return repo;
  }

  router.post('/', async (ctx) => {
    const body = await readJson(ctx, addBody);
    const { repo, created } = await addRepo(adding, sessionOf(ctx).account.id, body);
    ctx.status = created ? 202 : 200;
    ctx.body = { repo: presentRepo(repo) };
  });

  router.get('/', async (ctx) => {
    ctx.body = { repos: (await listLiveRepos(deps.ds, sessionOf(ctx).account.id)).map(presentRepo) };
  });

  router.get('/:id', async (ctx) => {
    ctx.body = { repo: presentRepo(await ownRepo(ctx)) };
  });

  router.patch('/:id', async (ctx) => {
    const repo = await ownRepo(ctx);
    const body = await readJson(ctx, patchBody);
    const updated = await switchToUrl(adding, repo, body.url);
    await deps.temporal.signalRepo(updated, { kind: 'reauthorized' });
    await deps.temporal.signalRepo(updated, { kind: 'reindex' });
    ctx.body = { repo: presentRepo(updated) };
  });

  router.post('/:id/reindex', async (ctx) => {
    const repo = await ownRepo(ctx);
    await deps.temporal.signalRepo(repo, { kind: 'reindex' });
    ctx.status = 202;
    ctx.body = { repo: presentRepo(repo) };
  });

  router.delete('/:id', async (ctx) => {
    const repo = await ownRepo(ctx);
    // Gone from the API at once; the workflow removes webhook, clone and index, then the row.
    await deps.ds.getRepository(Repo).update({ id: repo.id }, { deletedAt: new Date() });
    await deps.temporal.signalRepo(repo, { kind: 'delete' });
    ctx.status = 204;
  });

  return router;
}

export function adminRepoRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/admin/repos' });
  router.use(requireAdmin(deps));
  router.get('/:id', async (ctx) => {
    const repo = isUuid(ctx.params.id) ? await findLiveRepo(deps.ds, ctx.params.id) : null;
    if (!repo) throw errors.notFound('repo');
    const { workflowId, runId } = await deps.temporal.describeRepoWorkflow(repo.id);
    const ns = encodeURIComponent(deps.config.temporal.namespace);
    const operator = {
      accountId: repo.accountId,
      workflowId,
      runId,
      temporalUiUrl: `${deps.config.temporalUiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`,
    };
    // "The repo plus" the workflow coordinates: on the repo object, and beside it for convenience.
    ctx.body = { repo: { ...presentRepo(repo), ...operator }, ...operator };
  });
  return router;
}

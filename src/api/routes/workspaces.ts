// Whole workspaces (CONTRACT §13): an owner syncs every repo of a Bitbucket workspace. The row is
// written here; the workspace's workflow lists, registers and hooks (signal-with-start, so a
// workspace added again or changed is synced at once).
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { NeedsReauthError, NotConnectedError } from '../../bitbucket/errors';
import { findInstallation, needsReauth } from '../../bitbucket/installations';
import { excludeProblem, MAX_EXCLUDE_PATTERNS } from '../../workspaces/exclude';
import { findWorkspace, listWorkspaces, stopWorkspace, upsertWorkspace } from '../../workspaces/workspace-store';
import { requireUser, sessionOf } from '../auth';
import { readJson } from '../body';
import type { AppDeps } from '../deps';
import { ApiError, errors } from '../errors';
import type { WorkspaceList } from '../../shapes';

const WORKSPACE_SLUG = /^[A-Za-z0-9_.-]{1,100}$/;

const syncBody = z
  .object({
    workspace: z.string().trim().regex(WORKSPACE_SLUG, 'must be a workspace slug (letters, digits, "-", "_", ".")'),
    exclude: z.array(z.string().max(200, 'each pattern must be at most 200 characters')).max(MAX_EXCLUDE_PATTERNS, `at most ${MAX_EXCLUDE_PATTERNS} patterns`).optional(),
  })
  .strict();

export function workspaceRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/integrations/bitbucket/workspaces' });
  router.use(requireUser(deps));

  const requireOwner = (ctx: Context, what: string) => {
    if (sessionOf(ctx).user.role !== 'owner') throw errors.forbidden(`Only an owner of the account can ${what}.`);
  };

  const tell = async (accountId: string, workspace: string, message: 'resync' | 'stop') => {
    // The row is committed: if Temporal cannot be told now, the starter's sweep tells it later.
    await deps.temporal.signalWorkspace({ accountId, workspace }, message).catch((err: Error) =>
      deps.log.warn({ accountId, workspace, err: err.message }, 'could not reach the workspace workflow yet; the sweep retries'));
  };

  router.post('/', async (ctx) => {
    requireOwner(ctx, 'sync a whole workspace');
    const body = await readJson(ctx, syncBody);
    const exclude = [...new Set((body.exclude ?? []).map((p) => p.trim()))];
    const problem = excludeProblem(exclude);
    if (problem) throw errors.invalidRequest(problem);
    const accountId = sessionOf(ctx).account.id;
    const installation = await findInstallation(deps.ds, accountId);
    if (!installation) throw new NotConnectedError();
    if (needsReauth(installation)) throw new NeedsReauthError();
    const client = deps.bitbucket.clientFor(installation.id, installation.accountId);
    const access = await client.workspaceAccess(body.workspace);
    if (!access) throw new ApiError(404, 'bitbucket_workspace_not_found', `No Bitbucket workspace ${body.workspace} is visible to the connected user (it does not exist, or they are not a member).`);
    const name = await client.workspaceName(access.slug).catch(() => access.slug);
    const { created } = await upsertWorkspace(deps.ds, { accountId, workspace: access.slug, name, exclude, taskQueuePrefix: deps.config.taskQueuePrefix });
    await tell(accountId, access.slug, 'resync');
    ctx.status = created ? 202 : 200;
    ctx.body = { workspace: await findWorkspace(deps.ds, accountId, access.slug) };
  });

  router.get('/', async (ctx) => {
    ctx.body = { workspaces: await listWorkspaces(deps.ds, sessionOf(ctx).account.id) } satisfies WorkspaceList;
  });

  router.get('/:workspace', async (ctx) => {
    const workspace = WORKSPACE_SLUG.test(ctx.params.workspace) ? await findWorkspace(deps.ds, sessionOf(ctx).account.id, ctx.params.workspace) : null;
    if (!workspace) throw errors.notFound('synced workspace');
    ctx.body = { workspace };
  });

  router.delete('/:workspace', async (ctx) => {
    requireOwner(ctx, 'stop syncing a workspace');
    const accountId = sessionOf(ctx).account.id;
    const found = WORKSPACE_SLUG.test(ctx.params.workspace) ? await findWorkspace(deps.ds, accountId, ctx.params.workspace) : null;
    if (!found || !(await stopWorkspace(deps.ds, accountId, found.workspace))) throw errors.notFound('synced workspace');
    await tell(accountId, found.workspace, 'stop');
    ctx.status = 204;
  });

  return router;
}

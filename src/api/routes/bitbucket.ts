// The Bitbucket integration (CONTRACT §5): status, install start, the OAuth callback, the repo
// picker and disconnect. One installation per account.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { NeedsReauthError, NotConnectedError } from '../../bitbucket/errors';
import { attemptSaved, recordAttempt } from '../../bitbucket/install-attempts';
import { deleteInstallation, findInstallation, needsReauth } from '../../bitbucket/installations';
import { authorizeUrl } from '../../bitbucket/oauth';
import { createState, verifyState } from '../../bitbucket/oauth-state';
import { listPickableRepos } from '../../bitbucket/picker';
import { missingScopes } from '../../bitbucket/scopes';
import { FAILURES } from '../../failures';
import { requireUser, sessionOf } from '../auth';
import { parseQuery } from '../body';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import type { BitbucketStatusView, InstallView, PickerView } from '../../shapes';

export const NO_REPOS_MESSAGE = 'No repos visible in any of your workspaces';

/** After a reconnect every synced workspace lists again and retries its failed hooks (CONTRACT §13); best effort, the interval catches up. */
async function resyncWorkspaces(deps: AppDeps, accountId: string): Promise<void> {
  const rows: Array<{ workspace: string }> = await deps.ds.query(`SELECT workspace FROM synced_workspaces WHERE account_id = $1 AND stopped_at IS NULL`, [accountId]);
  for (const { workspace } of rows) {
    await deps.temporal.signalWorkspace({ accountId, workspace }, 'reconnected').catch((err: Error) =>
      deps.log.warn({ accountId, workspace, err: err.message }, 'could not tell a synced workspace about the reconnect'));
  }
}

const pickerQuery = z.object({ q: z.string().max(200, 'must be at most 200 characters').optional() });

export function bitbucketRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/integrations/bitbucket' });
  const user = requireUser(deps);

  router.get('/', user, async (ctx) => {
    const installation = await findInstallation(deps.ds, sessionOf(ctx).account.id);
    ctx.body = {
      configured: deps.bitbucket.configured,
      connected: installation !== null,
      needsReauth: installation ? needsReauth(installation) : false,
      bitbucketUser: installation?.providerUserUuid ? { uuid: installation.providerUserUuid, displayName: installation.providerUserName ?? '' } : null,
      connectedAt: installation ? installation.connectedAt.toISOString() : null,
      missingScopes: installation ? missingScopes(installation.scopes) : [],
    } satisfies BitbucketStatusView;
  });

  router.post('/install', user, (ctx) => {
    const consumer = deps.bitbucket.consumer;
    if (!consumer) throw new ApiError(503, 'bitbucket_not_configured', 'The Bitbucket integration is not configured on this server: the operator must set the OAuth consumer.');
    const { state } = createState(sessionOf(ctx).account.id, deps.config.adminToken, deps.clock());
    ctx.body = { authorizeUrl: authorizeUrl(consumer, state) } satisfies InstallView;
  });

  // Bitbucket redirects the browser here: no bearer token; the signed state names the account.
  router.get('/callback', async (ctx) => {
    const redirect = (query: string) => {
      ctx.status = 302;
      ctx.redirect(`${deps.config.publicUrl}/repos?${query}`);
    };
    const param = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : undefined);
    const error = param('error');
    if (error) return redirect(`bitbucket_error=${error === 'access_denied' ? 'access_denied' : 'exchange_failed'}`);
    const state = verifyState(param('state'), deps.config.adminToken, deps.clock());
    if (!state) return redirect('bitbucket_error=invalid_state');
    const code = param('code');
    if (!code || code.length > 2048) return redirect('bitbucket_error=exchange_failed');
    const attemptId = await recordAttempt(deps.ds, state.accountId, state.nonce, deps.box.seal(code), deps.clock());
    if (!attemptId) return redirect('bitbucket_error=invalid_state'); // replayed state, or the account is gone
    if (!deps.bitbucket.configured) return redirect('bitbucket_error=exchange_failed');
    const account = await deps.ds.query(`SELECT name FROM accounts WHERE id = $1`, [state.accountId]);
    const install = await deps.temporal.runInstall({ accountId: state.accountId, accountName: account[0]?.name ?? state.accountId, nonce: state.nonce, attemptId });
    // Still running after the wait, but the installation is saved (only the optional read of the
    // Bitbucket user is still retrying): the account is connected.
    const connected = install.outcome === 'connected' || (install.outcome === 'pending' && (await attemptSaved(deps.ds, attemptId)));
    if (connected) {
      await resyncWorkspaces(deps, state.accountId);
      return redirect('bitbucket=connected');
    }
    redirect(`bitbucket_error=${install.code === FAILURES.ConsumerNotPrivate.code ? install.code : 'exchange_failed'}`);
  });

  router.get('/repos', user, async (ctx: Context) => {
    const { q } = parseQuery(ctx, pickerQuery);
    const accountId = sessionOf(ctx).account.id;
    const installation = await findInstallation(deps.ds, accountId);
    if (!installation) throw new NotConnectedError();
    if (needsReauth(installation)) throw new NeedsReauthError();
    const repos = await listPickableRepos(deps.bitbucket.clientFor(installation.id, installation.accountId));
    const added: Array<{ bitbucket_uuid: string | null; source_key: string }> = await deps.ds.query(
      `SELECT bitbucket_uuid, source_key FROM repos WHERE account_id = $1 AND source = 'bitbucket'`,
      [accountId],
    );
    const addedUuids = new Set(added.map((r) => r.bitbucket_uuid));
    const addedKeys = new Set(added.map((r) => r.source_key));
    const needle = q?.trim().toLowerCase();
    ctx.body = {
      repos: repos
        .filter((r) => !needle || `${r.workspace}/${r.slug}`.toLowerCase().includes(needle))
        .map((r) => ({ ...r, added: addedUuids.has(r.uuid) || addedKeys.has(`bitbucket:${r.workspace}/${r.slug}`.toLowerCase()) })),
      message: repos.length === 0 ? NO_REPOS_MESSAGE : null,
    } satisfies PickerView;
  });

  router.delete('/', user, async (ctx) => {
    const { user: me, account } = sessionOf(ctx);
    if (me.role !== 'owner') throw new ApiError(403, 'forbidden', 'Only an owner of the account can disconnect Bitbucket.');
    if (!(await deleteInstallation(deps.ds, account.id))) throw new ApiError(404, 'not_connected', 'Bitbucket is not connected for this account.');
    ctx.status = 204;
  });

  return router;
}

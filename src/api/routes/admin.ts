// Admin API (CONTRACT §3): operators create accounts and users with CODEWAZE_ADMIN_TOKEN.
import Router from '@koa/router';
import { z } from 'zod';
import { addUser, createAccount, EmailTakenError, present } from '../../accounts/accounts';
import { requireAdmin } from '../auth';
import { readJson } from '../body';
import type { AppDeps } from '../deps';
import { ApiError, errors } from '../errors';
import { isUuid } from '../ids';

const email = z.string().trim().max(320).email('must be an email address');
const createAccountBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  ownerEmail: email,
});
const addUserBody = z.object({ email, role: z.enum(['owner', 'member'], { message: 'must be "owner" or "member"' }) });

function emailTaken(err: unknown): never {
  if (err instanceof EmailTakenError) throw new ApiError(409, 'email_taken', err.message);
  throw err;
}

export function adminRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/admin' });
  router.use(requireAdmin(deps));

  router.post('/accounts', async (ctx) => {
    const body = await readJson(ctx, createAccountBody);
    const { account, user, token } = await createAccount(deps.ds, deps.box, body).catch(emailTaken);
    ctx.status = 201;
    ctx.body = { account: present.account(account), user: present.user(user), token };
  });

  router.post('/accounts/:accountId/users', async (ctx) => {
    if (!isUuid(ctx.params.accountId)) throw errors.notFound('account');
    const body = await readJson(ctx, addUserBody);
    const created = await addUser(deps.ds, ctx.params.accountId, body).catch(emailTaken);
    if (!created) throw errors.notFound('account');
    ctx.status = 201;
    ctx.body = { user: present.user(created.user), token: created.token };
  });

  router.post('/diagnostics', async (ctx) => {
    const result = await deps.temporal.runDiagnostics();
    ctx.status = result.queues.every((q) => q.ok) ? 200 : 503;
    ctx.body = result;
  });

  return router;
}

// GET /v1/me (CONTRACT §4).
import Router from '@koa/router';
import { present } from '../../accounts/accounts';
import { requireUser, sessionOf } from '../auth';
import type { AppDeps } from '../deps';
import type { MeView } from '../../shapes';

export function sessionRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1' });
  router.get('/me', requireUser(deps), (ctx) => {
    const { user, account } = sessionOf(ctx);
    ctx.body = { user: present.user(user), account: present.account(account) } satisfies MeView;
  });
  return router;
}

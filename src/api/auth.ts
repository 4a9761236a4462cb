// Bearer authentication (CONTRACT §2): admin routes take CODEWAZE_ADMIN_TOKEN, all others a
// user's API token. Missing or unknown tokens answer 401 unauthorized.
import type { Context, Middleware } from 'koa';
import { findSessionByToken, type Session } from '../accounts/accounts';
import { safeEqual } from '../security/tokens';
import type { AppDeps } from './deps';
import { errors } from './errors';

function bearer(ctx: Context): string | null {
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(ctx.get('authorization'));
  return match ? match[1] : null;
}

export function requireAdmin(deps: AppDeps): Middleware {
  return async (ctx, next) => {
    const token = bearer(ctx);
    if (!token || !safeEqual(token, deps.config.adminToken)) throw errors.unauthorized();
    await next();
  };
}

export function requireUser(deps: AppDeps): Middleware {
  return async (ctx, next) => {
    const token = bearer(ctx);
    const session = token ? await findSessionByToken(deps.ds, token) : null;
    if (!session) throw errors.unauthorized();
    ctx.state.session = session;
    await next();
  };
}

export function sessionOf(ctx: Context): Session {
  return ctx.state.session as Session;
}

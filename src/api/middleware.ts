// Cross-cutting middleware: request ids, access logs (with credential-bearing query values
// redacted), latency metrics, and the error handler that turns everything into the contract's
// JSON error shape — a stack trace never reaches a client.
import crypto from 'node:crypto';
import type { Middleware } from 'koa';
import { isDatabaseRestart, RESTART_GRACE_MS } from '../db/database-restart';
import type { Logger } from '../logger';
import { redactText, redactUrl } from '../logger';
import { httpRequestDuration } from '../metrics';
import { ApiError, httpErrorOf } from './errors';

/** The caller's X-Request-Id when it is a plain token, else a new one. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming && /^[A-Za-z0-9._-]{1,100}$/.test(incoming) ? incoming : crypto.randomUUID();
}

export function requestContext(log: Logger): Middleware {
  return async (ctx, next) => {
    const requestId = requestIdFor(ctx.get('x-request-id'));
    ctx.state.requestId = requestId;
    let child: Logger | undefined; // made on first use: most requests never log below the access line
    Object.defineProperty(ctx.state, 'log', { get: () => (child ??= log.child({ requestId })), configurable: true });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? "unmatched";
      httpRequestDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
      // Method, redacted URL, status and time only: never headers (Authorization) or bodies.
      if (log.isLevelEnabled('info')) ctx.state.log.info(
        { method: ctx.method, url: redactUrl(ctx.originalUrl), status: ctx.status, ms: Math.round(seconds * 1000) },
        'request',
      );
    }
  };
}

export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
      }
      // The router answers 405 for a known method a route lacks, and 501 for a method it does not
      // know at all (TRACE, PROPFIND, …): both are the client's mistake, so both are 405 here.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}.`);
      }
    } catch (err) {
      const apiError = toApiError(err);
      if (apiError.status >= 500) ctx.state.log?.error({ err: sanitize(err) }, 'request failed');
      ctx.status = apiError.status;
      // Sent once the oversized body has arrived and been dropped (body.ts); the connection then
      // closes, since past the drain bounds the rest is still arriving and is no next request.
      if (apiError.status === 413) ctx.set('Connection', 'close');
      ctx.body = { error: { code: apiError.code, message: apiError.message } };
    }
  };
}

/**
 * A GET or HEAD whose statement a database restart cut off runs again, with back-off, for up to
 * RESTART_GRACE_MS (database-restart.ts): reads have no effect to repeat. Only the route that
 * answered is run again: an error from further down the chain (`next`) is not this router's.
 */
export function readsRideOutDatabaseRestarts<S, C>(routes: Middleware<S, C>): Middleware<S, C> {
  const ridden: Middleware<S, C> = async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return routes(ctx, next);
    const deadline = Date.now() + RESTART_GRACE_MS;
    for (let wait = 200; ; wait = Math.min(wait * 2, 2_000)) {
      let passedOn = false;
      try {
        return await routes(ctx, () => ((passedOn = true), next()));
      } catch (err) {
        // The route threw before answering (a body set would have been its answer), so nothing to undo.
        if (passedOn || !isDatabaseRestart(err) || Date.now() + wait > deadline) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  };
  // The router's own dispatcher carries it (`routes.router`), for whoever lists the app's routes.
  return Object.assign(ridden, { router: (routes as { router?: unknown }).router });
}

function toApiError(err: unknown): ApiError {
  const known = httpErrorOf(err);
  if (known) return known;
  const status = (err as { status?: number }).status;
  // Errors Koa or its router raise on their own (e.g. a malformed URL) carry a 4xx status.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, status === 404 ? 'not_found' : 'bad_request', 'The request could not be understood.');
  }
  return new ApiError(500, 'internal_error', 'Something went wrong on our side; try again.');
}

/** An unexpected error as a log line may show it: name, message and stack with credentials redacted. */
export function sanitize(err: unknown): { name?: string; message?: string; stack?: string } {
  const e = err as Error;
  return { name: e?.name, message: e?.message && redactText(e.message), stack: e?.stack && redactText(e.stack) };
}

// The HTTP entry point: webhook deliveries take their own lean path (routes/webhooks.ts), every
// other request the Koa application — middleware, then every route group; unknown routes answer
// the JSON 404.
import type { RequestListener } from 'node:http';
import Koa from 'koa';
import type { AppDeps } from './deps';
import { errorHandler, readsRideOutDatabaseRestarts, requestContext } from './middleware';
import { adminRoutes } from './routes/admin';
import { bitbucketRoutes } from './routes/bitbucket';
import { codecRoutes } from './routes/codec';
import { navigatorRoutes } from './routes/navigator';
import { openApiRoutes } from './routes/openapi';
import { adminRepoRoutes, repoRoutes } from './routes/repos';
import { webhookIntake } from './routes/webhooks';
import { healthRoutes } from './routes/health';
import { sessionRoutes } from './routes/session';
import { webUiRoutes } from './routes/web-ui';
import { workspaceRoutes } from './routes/workspaces';
import { searchRoutes } from './routes/search';

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: true });
  app.silent = true; // errors are handled and logged by our middleware, never printed raw
  app.use(requestContext(deps.log));
  app.use(errorHandler());
  // The web UI's page and assets last (WEB_UI=false: another frontend owns those paths).
  const webUi = deps.config.webUi ? [webUiRoutes(deps)] : [];
  for (const router of [healthRoutes(deps), openApiRoutes(), codecRoutes(deps), adminRoutes(deps), sessionRoutes(deps), workspaceRoutes(deps), bitbucketRoutes(deps), repoRoutes(deps), navigatorRoutes(deps), searchRoutes(deps), adminRepoRoutes(deps), ...webUi]) {
    app.use(readsRideOutDatabaseRestarts(router.routes()));
    app.use(router.allowedMethods());
  }
  return app;
}

/** What the HTTP server runs for each request. */
export function createRequestListener(deps: AppDeps): RequestListener {
  const intake = webhookIntake(deps);
  const koa = createApp(deps).callback();
  return (req, res) => {
    if (!intake(req, res)) void koa(req, res);
  };
}

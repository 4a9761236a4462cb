// The web UI (CONTRACT §12): its page at / and /repos (any query), its assets under /ui/. The files
// are what `web/build.ts` wrote to dist/ui (npm start and npm run build run it). WEB_UI=false
// leaves these paths to another frontend: the router is not mounted and they answer the JSON 404.
import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import { projectRoot } from '../../dev/project-root';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { ASSET_PREFIX, webUiDir, webUiFiles } from '../web-ui-files';

// Scripts, styles and images from this origin only: no inline script or style, no eval, no
// other host; the page cannot be framed, and forms post nowhere else.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const ASSET_NAME = /^[A-Za-z0-9_-]{1,80}\.(js|css|svg)$/;
const ASSET_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

export function webUiRoutes(deps: AppDeps, dir = webUiDir(projectRoot())): Router {
  const router = new Router();
  const files = webUiFiles(dir);
  let warned = false;
  const notBuilt = () => {
    if (!warned) deps.log.warn({ dir }, 'the web UI is not built: run npm run build');
    warned = true;
    return new ApiError(503, 'web_ui_not_built', 'The web UI is not built on this server: run `npm run build` (npm start builds it), or set WEB_UI=false.');
  };

  const page = async (ctx: Context) => {
    // Read per request (a few hundred bytes): a rebuild shows at the next load, without a restart.
    const html = await fs.promises.readFile(files.page).catch(() => null);
    if (!html) throw notBuilt();
    ctx.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      // The page names the current assets: never serve an old copy of it.
      'Cache-Control': 'no-store',
    });
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = html;
  };
  router.get('/', page);
  router.get('/repos', page);

  router.get(`${ASSET_PREFIX}:file`, async (ctx) => {
    const name = ctx.params.file;
    const match = ASSET_NAME.exec(name);
    if (!match) return; // the JSON 404
    const body = await fs.promises.readFile(path.join(files.assets, name)).catch(() => null);
    if (!body) return;
    ctx.set({
      'X-Content-Type-Options': 'nosniff',
      // Asset names carry a hash of their content.
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
    ctx.type = ASSET_TYPES[match[1]];
    ctx.body = body;
  });
  return router;
}

// Serving the web UI (CONTRACT §12): the page at / and /repos with its security headers, the
// assets under /ui/, the JSON 404 with WEB_UI=false, and a clear error when the UI is not built.
// The Koa app alone (no database is touched by these routes); the jest set-up built dist/ui.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/api/app';
import type { AppDeps } from '../../src/api/deps';
import { CONTENT_SECURITY_POLICY } from '../../src/api/routes/web-ui';
import { webUiDir } from '../../src/api/web-ui-files';
import { createLogger } from '../../src/logger';
import { testConfig } from '../support/service';

const root = path.resolve(__dirname, '..', '..');

async function serve(app: ReturnType<typeof createApp>) {
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const appWith = (env: Record<string, string> = {}) => createApp({ config: testConfig(env), log: createLogger('silent') } as AppDeps);

describe('the web UI routes', () => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => ({ url, close } = await serve(appWith())));
  afterAll(() => close());

  it.each(['/', '/repos', '/repos?bitbucket=connected', '/repos?bitbucket_error=invalid_state', '/repos?repo=abc&path=src%2Fx.ts&line=3'])('serves the page at %s with a strict CSP and no framing', async (route) => {
    const res = await fetch(url + route);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(csp).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toBe(fs.readFileSync(path.join(webUiDir(root), 'index.html'), 'utf8'));
    // No inline script or style in the page: only tags that load files from /ui/.
    expect(html.match(/<script\b[^>]*>/g)).toEqual([expect.stringMatching(/^<script type="module" src="\/ui\/app-[A-Z0-9]+\.js" integrity="sha384-[^"]+">$/)]);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('serves each asset the page names, with its type and an immutable cache, and nothing else under /ui/', async () => {
    const html = await (await fetch(`${url}/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.map((a) => path.extname(a)).sort()).toEqual(['.css', '.js', '.svg']);
    for (const asset of assets) {
      const res = await fetch(url + asset);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch({ '.js': /^text\/javascript/, '.css': /^text\/css/, '.svg': /^image\/svg\+xml/ }[path.extname(asset)]!);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    for (const bad of ['/ui/missing-0000.js', '/ui/..%2Fui%2Findex.html', '/ui/%2e%2e%2fpackage.json', '/ui/index.html', '/ui/']) {
      const res = await fetch(url + bad);
      expect([bad, res.status]).toEqual([bad, 404]);
      expect(((await res.json()) as any).error.code).toBe('not_found');
    }
  });

  it('leaves other methods and the API alone', async () => {
    const post = await fetch(`${url}/repos`, { method: 'POST', body: 'api-token=x' });
    expect(post.status).toBe(405);
    expect(((await post.json()) as any).error.code).toBe('method_not_allowed');
    const head = await fetch(`${url}/repos`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const unknown = await fetch(`${url}/v1/nothing-here`);
    expect([unknown.status, ((await unknown.json()) as any).error.code]).toEqual([404, 'not_found']);
  });
});

it('WEB_UI=false: / and /repos answer the JSON 404 of any unknown route', async () => {
  const { url, close } = await serve(appWith({ WEB_UI: 'false' }));
  try {
    for (const route of ['/', '/repos', '/repos?bitbucket=connected', '/ui/app.js']) {
      const res = await fetch(url + route);
      expect([route, res.status, res.headers.get('content-type')]).toEqual([route, 404, 'application/json; charset=utf-8']);
      expect(((await res.json()) as any).error.code).toBe('not_found');
    }
  } finally {
    await close();
  }
});

it('a server whose UI was never built says so in the error shape', async () => {
  const { webUiRoutes } = await import('../../src/api/routes/web-ui');
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'lettuce-no-ui-'));
  const Koa = (await import('koa')).default;
  const { errorHandler } = await import('../../src/api/middleware');
  const app = new Koa();
  app.use(errorHandler());
  app.use(webUiRoutes({ log: createLogger('silent') } as AppDeps, empty).routes());
  const { url, close } = await serve(app);
  try {
    const res = await fetch(`${url}/repos`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: 'web_ui_not_built', message: expect.stringContaining('npm run build') } });
  } finally {
    await close();
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

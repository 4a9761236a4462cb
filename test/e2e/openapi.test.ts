// The OpenAPI document (GET /v1/openapi.json) is kept true: every route the routers have is
// documented, every documented operation is called here once at least against the real service
// (with the fake Bitbucket, and payload encryption on, so the whole flow runs encrypted), and every
// answer recorded by the test client is checked against the schema of its path, method and status.
import crypto from 'node:crypto';
import { createApp } from '../../src/api/app';
import { WEBHOOK_ROUTE } from '../../src/api/routes/webhooks';
import type { AppDeps } from '../../src/api/deps';
import { openApiDocument } from '../../src/api/openapi/spec';
import { DEMO } from '../fakes/bitbucket/seed';
import { startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { validate } from '../support/json-schema';
import { isReadyAt, waitForRepo } from '../support/repos';
import { ADMIN_TOKEN, createAccount, type RecordedResponse, type TestService } from '../support/service';

const spec = openApiDocument as unknown as { paths: Record<string, Record<string, any>> };
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options'];

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, env: { TEMPORAL_PAYLOAD_KEY: crypto.randomBytes(32).toString('base64') } }));
}, 120_000);
afterAll(() => stop?.());

/** The spec's path template an actual path belongs to. */
function templateOf(path: string): string | undefined {
  return Object.keys(spec.paths).find((template) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`).test(path));
}

/** Problems of one recorded answer against the spec. */
function check(r: RecordedResponse): string[] {
  const where = `${r.method} ${r.path} → ${r.status}`;
  const template = templateOf(r.path);
  if (!template) return [`${where}: path not documented`];
  const operation = spec.paths[template][r.method.toLowerCase()];
  if (!operation) return [`${where}: method not documented on ${template}`];
  const response = operation.responses[String(r.status)];
  if (!response) return [`${where}: status not documented (${Object.keys(operation.responses).join(', ')})`];
  if (!response.content) return r.body === null ? [] : [`${where}: documented without a body, got ${JSON.stringify(r.body).slice(0, 100)}`];
  const [mediaType, { schema }] = Object.entries(response.content as Record<string, { schema: object }>)[0];
  if (!r.contentType?.startsWith(mediaType)) return [`${where}: content-type ${r.contentType}, documented ${mediaType}`];
  return validate(schema, r.body, openApiDocument as object).map((p) => `${where}: ${p}`);
}

it('documents every route of the routers, and nothing else', () => {
  // The web UI's pages and assets (WEB_UI) are not API: test/unit/web-ui-routes.test.ts covers them.
  const app = createApp({ config: { ...svc.config, webUi: false } } as AppDeps);
  const routed = (app.middleware as Array<{ router?: { stack: Array<{ methods: string[]; path: string }> } }>)
    .flatMap((m) => m.router?.stack ?? [])
    .flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => ({ method: m.toLowerCase(), path: layer.path })))
    .concat(WEBHOOK_ROUTE) // served ahead of the Koa app
    .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
  const documented = Object.entries(spec.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m} ${path}`));
  expect(routed.length).toBeGreaterThan(20);
  expect([...new Set(routed)].sort()).toEqual([...new Set(documented)].sort());
});

it('is served at /v1/openapi.json without auth', async () => {
  const res = await svc.request('GET', '/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
  expect(res.body.openapi).toBe('3.1.0');
});

it('every documented operation answers as documented', async () => {
  const req = svc.request.bind(svc);
  // Health, metrics.
  await req('GET', '/healthz');
  await req('GET', '/readyz');
  await req('GET', '/metrics');

  // Admin and session.
  await req('POST', '/v1/admin/accounts', { body: { name: 'x', ownerEmail: 'x@y.test' } }); // 401
  await req('POST', '/v1/admin/accounts', { token: ADMIN_TOKEN, body: { name: '', ownerEmail: 'nope' } }); // 400
  await req('POST', '/v1/admin/accounts', { token: ADMIN_TOKEN, rawBody: '{' }); // 400 invalid_json
  const { token, accountId } = await createAccount(svc); // 201
  const member = await req('POST', `/v1/admin/accounts/${accountId}/users`, { token: ADMIN_TOKEN, body: { email: `m-${crypto.randomUUID()}@acme.test`, role: 'member' } });
  expect(member.status).toBe(201);
  await req('POST', `/v1/admin/accounts/${crypto.randomUUID()}/users`, { token: ADMIN_TOKEN, body: { email: 'z@acme.test', role: 'member' } }); // 404
  const diagnostics = await req('POST', '/v1/admin/diagnostics', { token: ADMIN_TOKEN });
  expect(diagnostics.status).toBe(200);
  await req('GET', '/v1/me', { token });
  await req('GET', '/v1/me'); // 401

  // Bitbucket: status, picker before connecting, install, callback, picker.
  await req('GET', '/v1/integrations/bitbucket', { token });
  expect((await req('GET', '/v1/integrations/bitbucket/repos', { token })).status).toBe(409);
  const install = await req('POST', '/v1/integrations/bitbucket/install', { token });
  fake.setCurrentUser(DEMO.user);
  const authorize = await fetch(install.body.authorizeUrl, { redirect: 'manual' });
  const callback = new URL(authorize.headers.get('location')!);
  const done = await req('GET', `${callback.pathname}${callback.search}`);
  expect(done.headers.get('location')).toContain('bitbucket=connected');
  await req('GET', '/v1/integrations/bitbucket/callback?state=forged&code=x'); // 302 invalid_state
  await req('GET', '/v1/integrations/bitbucket', { token });
  expect((await req('GET', '/v1/integrations/bitbucket/repos?q=hello', { token })).body.repos.length).toBeGreaterThan(0);

  // Repos.
  const added = await req('POST', '/v1/repos', { token, body: { bitbucket: DEMO.repos.hello } });
  expect(added.status).toBe(202);
  const id = added.body.repo.id as string;
  await req('GET', `/v1/repos/${id}/tree`, { token }); // 409 not_indexed, or 200 if it was quick
  await waitForRepo(svc, token, id, isReadyAt(await fake.headOf('demo', 'hello-ts')));
  expect((await req('POST', '/v1/repos', { token, body: { bitbucket: DEMO.repos.hello } })).status).toBe(200);
  await req('POST', '/v1/repos', { token, body: { bitbucket: 'demo/does-not-exist' } }); // 404
  await req('POST', '/v1/repos', { token, body: { url: 'file:///etc/passwd' } }); // 400 url_not_allowed
  await req('POST', '/v1/repos', { token, body: {} }); // 400 invalid_request
  await req('GET', '/v1/repos', { token });
  await req('GET', `/v1/repos/${id}`, { token });
  await req('GET', `/v1/repos/${crypto.randomUUID()}`, { token }); // 404
  await req('GET', `/v1/admin/repos/${id}`, { token: ADMIN_TOKEN });
  await req('GET', `/v1/admin/repos/${crypto.randomUUID()}`, { token: ADMIN_TOKEN }); // 404

  // Navigator.
  const tree = await req('GET', `/v1/repos/${id}/tree?path=`, { token });
  expect(tree.status).toBe(200);
  await req('GET', `/v1/repos/${id}/tree?path=src`, { token });
  expect((await req('GET', `/v1/repos/${id}/file?path=src/greet.ts`, { token })).status).toBe(200);
  await req('GET', `/v1/repos/${id}/file?path=`, { token }); // 400
  expect((await req('GET', `/v1/repos/${id}/search?q=greet&limit=5`, { token })).body.results.length).toBeGreaterThan(0);
  await req('GET', `/v1/repos/${id}/search?q=`, { token }); // 400
  expect((await req('GET', `/v1/repos/${id}/symbols?q=gr`, { token })).body.symbols.length).toBeGreaterThan(0);
  await req('GET', `/v1/repos/${crypto.randomUUID()}/symbols?q=gr`, { token }); // 404

  // Webhooks: accepted, duplicate, ignored, refused.
  const secret = fake.hooksOf('demo', 'hello-ts').find((h) => h.url.endsWith(accountId))!.secret!;
  const deliver = (body: string, eventKey: string, uuid: string, signature?: string) =>
    req('POST', `/v1/webhooks/bitbucket/${accountId}`, {
      rawBody: body,
      headers: { 'content-type': 'application/json', 'x-event-key': eventKey, 'x-request-uuid': uuid, 'x-hub-signature': signature ?? `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}` },
    });
  const push = JSON.stringify({ repository: { full_name: 'demo/hello-ts' }, push: { changes: [{ new: { type: 'branch', name: 'main', target: { hash: 'a'.repeat(40) } } }] } });
  const uuid = crypto.randomUUID();
  expect((await deliver(push, 'repo:push', uuid)).status).toBe(202);
  expect((await deliver(push, 'repo:push', uuid)).status).toBe(200);
  expect((await deliver('{}', 'repo:updated', crypto.randomUUID())).status).toBe(202);
  expect((await deliver('{"push":1}', 'repo:push', crypto.randomUUID())).status).toBe(400);
  expect((await deliver(push, 'repo:push', crypto.randomUUID(), `sha256=${'0'.repeat(64)}`)).status).toBe(401);

  // Re-index, switch to a URL, delete.
  expect((await req('POST', `/v1/repos/${id}/reindex`, { token })).status).toBe(202);
  const host = new URL(fake.siteUrl).host;
  const patched = await req('PATCH', `/v1/repos/${id}`, { token, body: { url: `http://x-token-auth:${fake.issueTokens(DEMO.user).access_token}@${host}/demo/hello-ts.git` } });
  expect(patched.status).toBe(200);
  await req('PATCH', `/v1/repos/${id}`, { token, body: { nope: 1 } }); // 400
  expect((await req('DELETE', `/v1/repos/${id}`, { token })).status).toBe(204);

  // Code search over every repo of the account, and refused queries.
  expect((await req('GET', `/v1/search?q=${encodeURIComponent('/hel+o/ lang:typescript')}`, { token })).status).toBe(200);
  await req('GET', `/v1/search?q=${encodeURIComponent('/(/')}`, { token }); // 400 invalid_query
  await req('GET', '/v1/search?q=x&limit=0', { token }); // 400 invalid_request

  // Whole workspaces: sync one, read it, stop it (members may read, not change).
  const synced = await req('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: 'acme', exclude: ['infra'] } });
  expect(synced.status).toBe(202);
  expect((await req('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: 'acme' } })).status).toBe(200);
  await req('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: 'no-such-ws' } }); // 404
  await req('POST', '/v1/integrations/bitbucket/workspaces', { token: member.body.token, body: { workspace: 'acme' } }); // 403
  await req('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: 'a/b' } }); // 400
  expect((await req('GET', '/v1/integrations/bitbucket/workspaces', { token: member.body.token })).status).toBe(200);
  expect((await req('GET', '/v1/integrations/bitbucket/workspaces/acme', { token })).status).toBe(200);
  await req('GET', '/v1/integrations/bitbucket/workspaces/nope', { token }); // 404
  await req('DELETE', '/v1/integrations/bitbucket/workspaces/acme', { token: member.body.token }); // 403
  expect((await req('DELETE', '/v1/integrations/bitbucket/workspaces/acme', { token })).status).toBe(204);
  await req('DELETE', '/v1/integrations/bitbucket/workspaces/acme', { token }); // 404

  // Disconnect: members may not, owners may; then there is nothing to disconnect.
  expect((await req('DELETE', '/v1/integrations/bitbucket', { token: member.body.token })).status).toBe(403);
  expect((await req('DELETE', '/v1/integrations/bitbucket', { token })).status).toBe(204);
  expect((await req('DELETE', '/v1/integrations/bitbucket', { token })).status).toBe(404);

  // The codec server.
  const origin = { origin: svc.config.temporalUiUrl, 'access-control-request-method': 'POST' };
  expect((await req('OPTIONS', '/codec/encode', { headers: origin })).status).toBe(204);
  expect((await req('OPTIONS', '/codec/decode', { headers: origin })).status).toBe(204);
  const clear = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"a":1}').toString('base64') };
  const encoded = await req('POST', '/codec/encode', { token: ADMIN_TOKEN, body: { payloads: [clear] } });
  expect((await req('POST', '/codec/decode', { token: ADMIN_TOKEN, body: encoded.body })).body).toEqual({ payloads: [clear] });
  await req('POST', '/codec/decode', { body: encoded.body }); // 401
  await req('POST', '/codec/decode', { token: ADMIN_TOKEN, body: { payloads: 1 } }); // 400

  // Every answer matches the document; every documented operation was called.
  const problems = svc.responses.flatMap(check);
  expect(problems).toEqual([]);
  const called = new Set(svc.responses.map((r) => `${r.method.toLowerCase()} ${templateOf(r.path)}`));
  const documented = Object.entries(spec.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m} ${path}`));
  expect(documented.filter((op) => !called.has(op))).toEqual([]);
}, 180_000);

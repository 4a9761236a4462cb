// The logs of a whole run, captured in memory: requests carrying secrets (bearer tokens, the
// OAuth code and state, webhook bodies, credentials in pasted URLs) leave none of them in any line,
// while every request is logged, and activity lines name their workflow and run.
import crypto from 'node:crypto';
import { createLogger } from '../../src/logger';
import { DEMO } from '../fakes/bitbucket/seed';
import { startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { ADMIN_TOKEN, createAccount, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
const chunks: string[] = [];
const logText = () => chunks.join('');
const lines = () =>
  logText()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  const log = createLogger('debug', { write: (s: string) => void chunks.push(s) });
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, log }));
}, 120_000);
afterAll(() => stop?.());

it('logs every request and activity, and no secret at all', async () => {
  const secrets: string[] = [ADMIN_TOKEN, fake.clientSecret];
  const { token, accountId } = await createAccount(svc);
  secrets.push(token);
  expect((await svc.request('GET', '/v1/me', { token })).status).toBe(200);

  // OAuth: a forged callback, then the real round trip (its code and state are secrets).
  const forgedCode = `code-${crypto.randomBytes(12).toString('hex')}`;
  const forgedState = `state-${crypto.randomBytes(12).toString('hex')}`;
  secrets.push(forgedCode, forgedState);
  expect((await svc.request('GET', `/v1/integrations/bitbucket/callback?code=${forgedCode}&state=${forgedState}`)).status).toBe(302);
  fake.setCurrentUser(DEMO.user);
  const install = await svc.request('POST', '/v1/integrations/bitbucket/install', { token });
  const authorize = await fetch(install.body.authorizeUrl, { redirect: 'manual' });
  const callback = new URL(authorize.headers.get('location')!);
  secrets.push(callback.searchParams.get('code')!, callback.searchParams.get('state')!);
  const done = await svc.request('GET', `${callback.pathname}${callback.search}`);
  expect(done.headers.get('location')).toContain('bitbucket=connected');

  // A Bitbucket repo: registered, webhook created (with the account's secret), indexed.
  const added = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: DEMO.repos.hello } });
  const repoId = added.body.repo.id;
  await waitForRepo(svc, token, repoId, isReadyAt(await fake.headOf('demo', 'hello-ts')));
  const webhookSecret = fake.hooksOf('demo', 'hello-ts').find((h) => h.url.endsWith(accountId))!.secret!;
  secrets.push(webhookSecret);

  // Webhook deliveries whose bodies carry secret-looking fields: unsigned, and properly signed.
  const bodySecret = `whsec-${crypto.randomBytes(12).toString('hex')}`;
  secrets.push(bodySecret);
  const body = JSON.stringify({ secret: bodySecret, token: bodySecret, repository: { full_name: 'demo/hello-ts' }, push: { changes: [] } });
  const headers = { 'content-type': 'application/json', 'x-event-key': 'repo:push', 'x-request-uuid': crypto.randomUUID() };
  expect((await svc.request('POST', `/v1/webhooks/bitbucket/${accountId}`, { rawBody: body, headers: { ...headers, 'x-hub-signature': `sha256=${'0'.repeat(64)}` } })).status).toBe(401);
  const signature = `sha256=${crypto.createHmac('sha256', webhookSecret).update(body).digest('hex')}`;
  expect((await svc.request('POST', `/v1/webhooks/bitbucket/${accountId}`, { rawBody: body, headers: { ...headers, 'x-hub-signature': signature } })).status).toBe(202);

  // A pasted URL with credentials: probed, cloned and fetched with them.
  const pasted = fake.issueTokens(DEMO.user).access_token;
  secrets.push(pasted);
  const host = new URL(fake.siteUrl).host;
  const byUrl = await svc.request('POST', '/v1/repos', { token, body: { url: `http://x-token-auth:${pasted}@${host}/acme/api.git` } });
  expect(byUrl.status).toBe(202);
  await waitForRepo(svc, token, byUrl.body.repo.id, isReadyAt(await fake.headOf('acme', 'api')));
  // ...and a bad one, so an error path with the credentials runs too.
  const wrong = `wrong-${crypto.randomBytes(12).toString('hex')}`;
  secrets.push(wrong);
  await svc.request('POST', '/v1/repos', { token, body: { url: `http://x-token-auth:${wrong}@${host}/acme/nope.git` } });

  // Activity lines carry their workflow: the app's own (the webhook removal, refused here, warns
  // from inside the delete's activity) and the SDK's (as pino JSON through the runtime logger).
  fake.injectFault({ method: 'DELETE', path: /\/hooks\//, status: 403, times: Infinity });
  expect((await svc.request('DELETE', `/v1/repos/${repoId}`, { token })).status).toBe(204);
  const deadline = Date.now() + 30_000;
  while (!lines().some((l) => l.msg === 'could not remove the webhook (best effort)') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  fake.clearFaults();
  const all = lines();
  expect(all.find((l) => l.msg === 'could not remove the webhook (best effort)')).toMatchObject({
    level: 40,
    workflowId: `repo:${repoId}`,
    runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    activityType: 'removeWebhook',
    activityId: expect.any(String),
    attempt: 1,
  });
  const sdkLine = all.find((l) => l.msg === 'Activity completed' && l.activityType === 'syncAndIndex' && l.workflowId === `repo:${repoId}`);
  expect(sdkLine).toMatchObject({ component: 'temporal-sdk', workflowRunId: expect.any(String), durationMs: expect.any(Number) });

  // Requests are logged: method, redacted URL, status and time, with a request id.
  const requests = all.filter((l) => l.msg === 'request');
  expect(requests.length).toBeGreaterThanOrEqual(svc.responses.length);
  expect(requests.find((l) => l.url === '/v1/me')).toMatchObject({ method: 'GET', status: 200, requestId: expect.any(String), ms: expect.any(Number) });
  expect(requests.find((l) => l.url.startsWith('/v1/integrations/bitbucket/callback'))!.url).toMatch(/code=\[redacted\]&state=\[redacted\]/);
  for (const l of requests) expect(Object.keys(l).sort()).toEqual(['level', 'method', 'ms', 'msg', 'requestId', 'service', 'status', 'time', 'url'].sort());

  // No secret anywhere, in any form the log could have taken.
  const text = logText();
  for (const s of secrets) {
    expect(s.length).toBeGreaterThanOrEqual(8);
    for (const form of [s, encodeURIComponent(s), Buffer.from(s).toString('base64')]) expect(text.includes(form) ? form : null).toBeNull();
  }
  expect(text).not.toMatch(/authorization"\s*:\s*"Bearer/i);
});

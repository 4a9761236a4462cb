// The foundation API against the real service (real PostgreSQL, real Temporal): admin API,
// session, auth, the contract's error shape, health and metrics.
import crypto from 'node:crypto';
import http from 'node:http';
import { Client } from 'pg';
import { SecretBox } from '../../src/security/secret-box';
import { ADMIN_TOKEN, createAccount, startTestService, type TestService } from '../support/service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ workers: false });
});
afterAll(() => svc?.stop());

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(res.body.error.message.length).toBeGreaterThan(5);
}

describe('admin API', () => {
  it('creates an account with its owner and a token that works once shown', async () => {
    const res = await svc.request('POST', '/v1/admin/accounts', { token: ADMIN_TOKEN, body: { name: 'Acme', ownerEmail: 'alice@acme.test' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      account: { id: expect.any(String), name: 'Acme' },
      user: { id: expect.any(String), email: 'alice@acme.test', role: 'owner' },
      token: expect.any(String),
    });
    const me = await svc.request('GET', '/v1/me', { token: res.body.token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user: res.body.user, account: res.body.account });
  });

  it('adds members and owners; the member sees the same account', async () => {
    const { accountId } = await createAccount(svc);
    const res = await svc.request('POST', `/v1/admin/accounts/${accountId}/users`, { token: ADMIN_TOKEN, body: { email: 'bob@acme.test', role: 'member' } });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({ id: expect.any(String), email: 'bob@acme.test', role: 'member' });
    const me = await svc.request('GET', '/v1/me', { token: res.body.token });
    expect(me.body.account.id).toBe(accountId);
    expect(me.body.user.role).toBe('member');

    expectError(await svc.request('POST', `/v1/admin/accounts/${accountId}/users`, { token: ADMIN_TOKEN, body: { email: 'BOB@acme.test', role: 'owner' } }), 409, 'email_taken');
    expectError(await svc.request('POST', `/v1/admin/accounts/${accountId}/users`, { token: ADMIN_TOKEN, body: { email: 'c@acme.test', role: 'admin' } }), 400, 'invalid_request');
  });

  it('answers 404 for an unknown account, whatever the id looks like', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '%27%3B--']) {
      expectError(await svc.request('POST', `/v1/admin/accounts/${id}/users`, { token: ADMIN_TOKEN, body: { email: 'x@y.test', role: 'member' } }), 404, 'not_found');
    }
  });

  it('stores API tokens only as hashes and the webhook secret sealed', async () => {
    const { token, accountId } = await createAccount(svc);
    const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
    try {
      const tokens = await db.query('SELECT token_hash FROM api_tokens');
      expect(tokens.rows.some((r) => r.token_hash === token)).toBe(false);
      const dump = JSON.stringify((await db.query('SELECT * FROM api_tokens')).rows);
      expect(dump).not.toContain(token);
      const acct = await db.query('SELECT webhook_secret FROM accounts WHERE id = $1', [accountId]);
      expect(acct.rows[0].webhook_secret).toMatch(/^v1\./);
    } finally {
      await db.end();
    }
  });
});

describe('authentication', () => {
  it('refuses missing, malformed and unknown tokens with 401 unauthorized', async () => {
    expectError(await svc.request('GET', '/v1/me'), 401, 'unauthorized');
    expectError(await svc.request('GET', '/v1/me', { headers: { authorization: 'Basic abc' } }), 401, 'unauthorized');
    expectError(await svc.request('GET', '/v1/me', { token: 'lt_unknown' }), 401, 'unauthorized');
    // a user token is not an admin token, and the admin token is not a user token
    const { token } = await createAccount(svc);
    expectError(await svc.request('POST', '/v1/admin/accounts', { token, body: { name: 'x', ownerEmail: 'x@y.test' } }), 401, 'unauthorized');
    expectError(await svc.request('GET', '/v1/me', { token: ADMIN_TOKEN }), 401, 'unauthorized');
  });
});

describe('request bodies', () => {
  it('answers malformed JSON with 400 invalid_json', async () => {
    for (const rawBody of ['{bad', '', 'null x', '\u0000']) {
      expectError(await svc.request('POST', '/v1/admin/accounts', { token: ADMIN_TOKEN, rawBody, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    }
  });

  it('answers schema violations with 400 invalid_request naming the field', async () => {
    const res = await svc.request('POST', '/v1/admin/accounts', { token: ADMIN_TOKEN, body: { name: 'Acme', ownerEmail: 'not-an-email' } });
    expectError(res, 400, 'invalid_request');
    expect(res.body.error.message).toContain('ownerEmail');
    const res2 = await svc.request('POST', '/v1/admin/accounts', { token: ADMIN_TOKEN, body: { name: 42, ownerEmail: 'a@b.test' } });
    expect(res2.body.error.message).toContain('name');
    expectError(await svc.request('POST', '/v1/admin/accounts', { token: ADMIN_TOKEN, body: [1, 2] }), 400, 'invalid_request');
  });

  it('answers bodies over 1 MiB with 413 payload_too_large, declared or streamed', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024), ownerEmail: 'a@b.test' });
    expectError(await svc.request('POST', '/v1/admin/accounts', { token: ADMIN_TOKEN, rawBody: big }), 413, 'payload_too_large');
    // chunked (no Content-Length): the limit holds while streaming
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(100_000)));
        controller.close();
      },
    });
    const res = await fetch(`${svc.url}/v1/admin/accounts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });
});

describe('routing, health and metrics', () => {
  it('answers unknown routes with the JSON 404', async () => {
    expectError(await svc.request('GET', '/nope'), 404, 'not_found');
    expectError(await svc.request('GET', '/v1/unknown/thing', { token: 'x' }), 404, 'not_found');
  });

  it('answers a wrong method with a JSON error', async () => {
    const res = await svc.request('DELETE', '/v1/me');
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe('method_not_allowed');
  });

  it('is healthy and ready when PostgreSQL and Temporal answer', async () => {
    expect((await svc.request('GET', '/healthz')).status).toBe(200);
    const ready = await svc.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok', temporal: 'ok' });
  });

  it('serves Prometheus metrics including request latencies', async () => {
    await svc.request('GET', '/healthz');
    const res = await fetch(`${svc.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/lettuce_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(text).toContain('lettuce_token_refreshes_total');
    expect(text).toContain('lettuce_webhook_deliveries_total');
  });
});

describe('the webhook receiver over HTTP (served ahead of the Koa app)', () => {
  let accountId: string;
  let secret: string;
  const sign = (body: string | Buffer) => `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
  const deliver = (body: string | Buffer, headers: Record<string, string> = {}, path = `/v1/webhooks/bitbucket/${accountId}`) =>
    svc.request('POST', path, { rawBody: body, headers: { 'content-type': 'application/json', 'x-event-key': 'repo:push', 'x-request-uuid': crypto.randomUUID(), 'x-hub-signature': sign(body), ...headers } });
  const push = JSON.stringify({ repository: { full_name: 'nobody/unknown', uuid: '{00000000-0000-4000-8000-000000000000}' }, push: { changes: [{ new: { type: 'branch', name: 'main', target: { hash: 'a'.repeat(40) } } }] } });

  beforeAll(async () => {
    ({ accountId } = await createAccount(svc));
    const db = new Client({ connectionString: svc.config.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT webhook_secret FROM accounts WHERE id = $1', [accountId]);
      secret = new SecretBox(svc.config.tokenEncryptionKey).open(rows[0].webhook_secret);
    } finally {
      await db.end();
    }
  });

  it('answers as the contract says: recorded, duplicate, ignored, refused, malformed', async () => {
    const uuid = crypto.randomUUID();
    const first = await deliver(push, { 'x-request-uuid': uuid, 'x-request-id': 'caller-request-7' });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ outcome: 'ignored', reason: 'this repository is not added to Lettuce' });
    expect(first.headers.get('x-request-id')).toBe('caller-request-7');
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await deliver(push, { 'x-request-uuid': uuid })).body).toEqual({ outcome: 'duplicate' });
    expect((await deliver(push, { 'x-request-uuid': uuid })).status).toBe(200);
    expect((await deliver('{}', { 'x-event-key': 'repo:updated' })).body).toEqual({ outcome: 'ignored', reason: 'event repo:updated is not handled' });
    expectError(await deliver(push, { 'x-hub-signature': `sha256=${'0'.repeat(64)}` }), 401, 'invalid_signature');
    expectError(await deliver(push, { 'x-hub-signature': '' }), 401, 'invalid_signature');
    expectError(await deliver('{"push":1}'), 400, 'invalid_payload');
    expectError(await deliver('not json'), 400, 'invalid_payload');
    // Not one of our accounts, however the segment looks: the signature cannot match.
    for (const segment of [crypto.randomUUID(), 'nope', '%zz']) expectError(await deliver(push, {}, `/v1/webhooks/bitbucket/${segment}`), 401, 'invalid_signature');
    // A trailing slash, a query string or an upper-case id name the same account.
    expect((await deliver(push, {}, `/v1/webhooks/bitbucket/${accountId.toUpperCase()}/?x=1`)).status).toBe(202);
  });

  it('refuses bodies over 1 MiB with 413 and closes the connection, declared or streamed', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    const declared = await deliver(big);
    expectError(declared, 413, 'payload_too_large');
    expect(declared.headers.get('connection')).toBe('close');
    const streamed = await new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      const req = http.request(`${svc.url}/v1/webhooks/bitbucket/${accountId}`, { method: 'POST', headers: { 'x-event-key': 'repo:push', 'x-hub-signature': sign('') } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
      });
      req.on('error', reject);
      for (let i = 0; i < 12; i++) req.write(Buffer.alloc(100_000, 120));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).error.code).toBe('payload_too_large');
    expect(streamed.connection).toBe('close');
  });

  it('answers other methods on a webhook URL with 405 in the error shape', async () => {
    const res = await svc.request('GET', `/v1/webhooks/bitbucket/${accountId}`);
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe('POST');
    expectError(await svc.request('POST', '/v1/webhooks/bitbucket/'), 404, 'not_found'); // no account: not a webhook URL
  });

  it('counts deliveries and their latency in /metrics', async () => {
    await deliver(push);
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).toMatch(/lettuce_http_request_duration_seconds_count\{method="POST",route="\/v1\/webhooks\/bitbucket\/:accountId",status="202"\} [1-9]/);
    expect(text).toMatch(/lettuce_webhook_deliveries_total\{outcome="ignored"\} [1-9]/);
    expect(text).toMatch(/lettuce_webhook_deliveries_total\{outcome="invalid_signature"\} [1-9]/);
  });
});

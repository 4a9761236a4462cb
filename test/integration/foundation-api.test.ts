// The foundation API against the real service (real PostgreSQL, real Temporal): admin API,
// session, auth, the contract's error shape, health and metrics.
import { Client } from 'pg';
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

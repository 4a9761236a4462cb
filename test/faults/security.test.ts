// Security checks as tests.
//  1. Secrets scan over a full run — connect, picker, repos (Bitbucket and a pasted URL with
//     credentials), signed pushes, a token refresh, a disconnect and reconnect, a delete — then
//     every row of the database, every workflow history of the run and everything the service's
//     logger wrote (at debug level) must contain no consumer secret, OAuth code, access or
//     refresh token, webhook secret, pasted credential, API token, admin token or encryption key.
//  2. The tenant-isolation matrix: every route of src/api/routes with another account's ids
//     answers exactly what an unknown id answers (404 not_found), and changes nothing; admin
//     routes refuse user tokens and user routes refuse the admin token.
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { SecretBox } from '../../src/security/secret-box';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, type FakeBitbucket } from '../support/bitbucket';
import { getRepo, isReadyAt, waitForRepo } from '../support/repos';
import { dumpDatabase, dumpHistories, findLeaks } from '../support/secrets-scan';
import { ADMIN_TOKEN, createAccount, ENCRYPTION_KEY, type TestService } from '../support/service';
import { addBitbucketRepo, ourHooks, query, sleep, startFaultStack, waitUntil } from './support/harness';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let logText = '';

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  ({ fake, svc, stop } = await startFaultStack({ log: createLogger('debug', sink) }));
}, 180_000);
afterAll(() => stop?.());

describe('secrets scan over a full run', () => {
  it('finds no secret in the database, the workflow histories or the logs', async () => {
    const a = await createAccount(svc, 'Scan A');
    const member = await svc.request('POST', `/v1/admin/accounts/${a.accountId}/users`, { token: ADMIN_TOKEN, body: { email: `m-${crypto.randomBytes(3).toString('hex')}@scan.test`, role: 'member' } });
    expect(member.status).toBe(201);
    expect((await connect(svc, a.token)).location).toContain('bitbucket=connected');
    expect((await svc.request('GET', '/v1/integrations/bitbucket/repos?q=acme', { token: a.token })).status).toBe(200);

    const hello = (await addBitbucketRepo(svc, a.token, DEMO.repos.hello)).body.repo.id;
    const api = (await addBitbucketRepo(svc, a.token, DEMO.repos.api)).body.repo.id;
    const pasted = fake.issueTokens(DEMO.user).access_token;
    const host = new URL(fake.siteUrl).host;
    const byUrl = await svc.request('POST', '/v1/repos', { token: a.token, body: { url: `http://x-token-auth:${pasted}@${host}/acme/worker-py.git` } });
    expect(byUrl.status).toBe(202);
    await waitForRepo(svc, a.token, hello, isReadyAt(await fake.headOf('demo', 'hello-ts')), 90_000);
    await waitForRepo(svc, a.token, api, isReadyAt(await fake.headOf('acme', 'api')), 90_000);
    await waitForRepo(svc, a.token, byUrl.body.repo.id, isReadyAt(await fake.headOf('acme', 'worker-py')), 90_000);

    // Signed pushes (and a forged one), a refresh of an expiring token, a manual re-index.
    const sha = await fake.commit('demo', 'hello-ts', { 'src/scan.ts': 'export const scan = 1;\n' });
    expect((await fake.deliverPush('demo', 'hello-ts'))[0].status).toBe(202);
    await waitForRepo(svc, a.token, hello, isReadyAt(sha));
    const forged = await fetch(`${svc.url}/v1/webhooks/bitbucket/${a.accountId}`, { method: 'POST', headers: { 'x-event-key': 'repo:push', 'x-hub-signature': `sha256=${'1'.repeat(64)}` }, body: '{}' });
    expect(forged.status).toBe(401);
    const refreshes = fake.stats().refreshes;
    await query(`UPDATE provider_installations SET expires_at = now() WHERE account_id = $1`, [a.accountId]);
    const sha2 = await fake.commit('acme', 'api', { 'src/refresh.ts': 'export const r = 1;\n' });
    expect((await svc.request('POST', `/v1/repos/${api}/reindex`, { token: a.token })).status).toBe(202);
    await waitForRepo(svc, a.token, api, isReadyAt(sha2), 90_000);
    expect(fake.stats().refreshes).toBeGreaterThan(refreshes);

    // Disconnect, reconnect, delete a repo (its webhook goes too).
    expect((await svc.request('DELETE', '/v1/integrations/bitbucket', { token: a.token })).status).toBe(204);
    expect((await connect(svc, a.token)).location).toContain('bitbucket=connected');
    const webhookSecrets = [...new Set([DEMO.repos.hello, DEMO.repos.api].flatMap((n) => ourHooks(fake, n, a.accountId).map((h) => h.secret!)))];
    expect(webhookSecrets).toHaveLength(1); // one secret per account, reused for every repo
    expect((await svc.request('DELETE', `/v1/repos/${api}`, { token: a.token })).status).toBe(204);
    await waitUntil('the webhook of the deleted repo removed', () => ourHooks(fake, DEMO.repos.api, a.accountId).length === 0, 30_000);
    await sleep(500);

    const secrets = [...fake.issuedSecrets(), pasted, ...webhookSecrets, a.token, member.body.token, ADMIN_TOKEN, ENCRYPTION_KEY];
    expect(secrets.length).toBeGreaterThan(10);
    const database = await dumpDatabase();
    const histories = await dumpHistories(`LettuceAccountId = '${a.accountId}'`);
    expect(histories.workflows).toBeGreaterThanOrEqual(5); // installs and repo workflows of this run
    expect(logText.split('\n').length).toBeGreaterThan(50); // the logger really was captured
    expect(logText).toContain('"msg":"request"');
    expect({ database: findLeaks(database, secrets), histories: findLeaks(histories.text, secrets), logs: findLeaks(logText, secrets) }).toEqual({ database: [], histories: [], logs: [] });
  }, 300_000);
});

describe('tenant isolation', () => {
  let a: { accountId: string; userId: string; token: string };
  let b: { accountId: string; userId: string; token: string };
  let memberOfA: string;
  let repoOfA: string;
  let before: any;

  beforeAll(async () => {
    a = await createAccount(svc, 'Tenant A');
    b = await createAccount(svc, 'Tenant B');
    memberOfA = (await svc.request('POST', `/v1/admin/accounts/${a.accountId}/users`, { token: ADMIN_TOKEN, body: { email: `member-${crypto.randomBytes(3).toString('hex')}@a.test`, role: 'member' } })).body.token;
    expect((await connect(svc, a.token)).location).toContain('bitbucket=connected');
    repoOfA = (await addBitbucketRepo(svc, a.token, DEMO.repos.worker)).body.repo.id;
    ({ repo: before } = await waitForRepo(svc, a.token, repoOfA, isReadyAt(await fake.headOf('acme', 'worker-py')), 90_000));
  }, 180_000);

  /** Every route that takes an id, as [method, path, body]. */
  const idRoutes = (repoId: string): Array<[string, string, unknown?]> => [
    ['GET', `/v1/repos/${repoId}`],
    ['PATCH', `/v1/repos/${repoId}`, { url: `${fake.siteUrl}/oss-lab/go-tools.git` }],
    ['POST', `/v1/repos/${repoId}/reindex`],
    ['DELETE', `/v1/repos/${repoId}`],
    ['GET', `/v1/repos/${repoId}/tree?path=`],
    ['GET', `/v1/repos/${repoId}/tree?path=worker`],
    ['GET', `/v1/repos/${repoId}/file?path=README.md`],
    ['GET', `/v1/repos/${repoId}/search?q=job`],
    ['GET', `/v1/repos/${repoId}/symbols?q=J`],
  ];

  it("the owner and a member of A reach A's repo on every route (the matrix below is not vacuous)", async () => {
    for (const token of [a.token, memberOfA]) {
      for (const [method, route] of idRoutes(repoOfA).filter(([m]) => m === 'GET')) {
        const res = await svc.request(method, route, { token });
        expect([method, route, res.status]).toEqual([method, route, 200]);
      }
    }
  });

  it("every route with A's repo id answers B exactly like an unknown id: 404 not_found", async () => {
    const unknown = crypto.randomUUID();
    for (const [i, [method, route, body]] of idRoutes(repoOfA).entries()) {
      const asB = await svc.request(method, route, { token: b.token, body });
      const [, unknownRoute, unknownBody] = idRoutes(unknown)[i];
      const asUnknown = await svc.request(method, unknownRoute, { token: b.token, body: unknownBody });
      expect([method, route, asB.status, asB.body]).toEqual([method, route, 404, { error: { code: 'not_found', message: expect.any(String) } }]);
      expect([method, route, asB.body]).toEqual([method, route, asUnknown.body]);
    }
    expect((await svc.request('GET', '/v1/repos', { token: b.token })).body.repos).toEqual([]);
    // ids that are not ids at all
    for (const bad of ['not-a-uuid', '..', '%2e%2e', `${repoOfA}x`, repoOfA.toUpperCase().replace(/-/g, '')]) {
      const res = await svc.request('GET', `/v1/repos/${bad}`, { token: b.token });
      expect([bad, res.status, res.body?.error?.code]).toEqual([bad, 404, 'not_found']);
    }
  });

  it("B's webhook secret cannot push to A, and B's endpoint does not reach A's repo", async () => {
    const secretOf = async (accountId: string) => {
      const [row] = await query(`SELECT webhook_secret FROM accounts WHERE id = $1`, [accountId]);
      return new SecretBox(Buffer.from(ENCRYPTION_KEY, 'base64')).open(row.webhook_secret);
    };
    const secretB = await secretOf(b.accountId);
    const body = JSON.stringify({
      repository: { full_name: DEMO.repos.worker },
      push: { changes: [{ new: { type: 'branch', name: 'main', target: { hash: 'f'.repeat(40) } } }] },
    });
    const sign = (secret: string) => `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
    const send = (accountId: string, secret: string) =>
      fetch(`${svc.url}/v1/webhooks/bitbucket/${accountId}`, { method: 'POST', headers: { 'x-event-key': 'repo:push', 'x-request-uuid': crypto.randomUUID(), 'x-hub-signature': sign(secret), 'content-type': 'application/json' }, body });
    const toA = await send(a.accountId, secretB);
    expect([toA.status, ((await toA.json()) as any).error.code]).toEqual([401, 'invalid_signature']);
    const toB = await send(b.accountId, secretB);
    expect([toB.status, ((await toB.json()) as any).outcome]).toEqual([202, 'ignored']);
  });

  it('account-level routes act on the caller\'s own account only', async () => {
    expect((await svc.request('GET', '/v1/me', { token: b.token })).body.account.id).toBe(b.accountId);
    expect((await svc.request('GET', '/v1/integrations/bitbucket', { token: b.token })).body).toMatchObject({ connected: false });
    expect((await svc.request('GET', '/v1/integrations/bitbucket/repos', { token: b.token })).body.error.code).toBe('not_connected');
    expect((await svc.request('DELETE', '/v1/integrations/bitbucket', { token: b.token })).body.error.code).toBe('not_connected');
    const added = await svc.request('POST', '/v1/repos', { token: b.token, body: { bitbucket: DEMO.repos.worker } });
    expect([added.status, added.body.error.code]).toEqual([409, 'not_connected']);
    // A member of A cannot disconnect A (owners only), and A is still connected.
    expect((await svc.request('DELETE', '/v1/integrations/bitbucket', { token: memberOfA })).body.error.code).toBe('forbidden');
    expect((await svc.request('GET', '/v1/integrations/bitbucket', { token: a.token })).body.connected).toBe(true);
  });

  it('admin routes refuse user tokens; user routes refuse the admin token; the admin reaches any repo', async () => {
    const adminRoutes: Array<[string, string, unknown?]> = [
      ['POST', '/v1/admin/accounts', { name: 'X', ownerEmail: 'x@x.test' }],
      ['POST', `/v1/admin/accounts/${a.accountId}/users`, { email: 'y@x.test', role: 'owner' }],
      ['POST', `/v1/admin/accounts/${b.accountId}/users`, { email: 'z@x.test', role: 'owner' }],
      ['POST', '/v1/admin/diagnostics'],
      ['GET', `/v1/admin/repos/${repoOfA}`],
    ];
    for (const token of [a.token, b.token, memberOfA, undefined]) {
      for (const [method, route, body] of adminRoutes) {
        const res = await svc.request(method, route, { token, body });
        expect([method, route, res.status, res.body?.error?.code]).toEqual([method, route, 401, 'unauthorized']);
      }
    }
    for (const [method, route, body] of [...idRoutes(repoOfA), ['GET', '/v1/me'], ['GET', '/v1/repos'], ['GET', '/v1/integrations/bitbucket']] as Array<[string, string, unknown?]>) {
      const res = await svc.request(method, route, { token: ADMIN_TOKEN, body });
      expect([method, route, res.status, res.body?.error?.code]).toEqual([method, route, 401, 'unauthorized']);
    }
    const asAdmin = await svc.request('GET', `/v1/admin/repos/${repoOfA}`, { token: ADMIN_TOKEN });
    expect([asAdmin.status, asAdmin.body.accountId, asAdmin.body.workflowId]).toEqual([200, a.accountId, `repo:${repoOfA}`]);
    expect((await svc.request('GET', `/v1/admin/repos/${crypto.randomUUID()}`, { token: ADMIN_TOKEN })).status).toBe(404);
    expect((await svc.request('POST', `/v1/admin/accounts/${crypto.randomUUID()}/users`, { token: ADMIN_TOKEN, body: { email: 'q@x.test', role: 'member' } })).status).toBe(404);
  });

  it("after all of B's attempts, A's repo is untouched: same index, not re-indexed, not deleted, still Bitbucket", async () => {
    await sleep(1_500);
    const after = await getRepo(svc, a.token, repoOfA);
    expect(after).toMatchObject({ status: 'ready', source: 'bitbucket', name: DEMO.repos.worker, lastIndexedCommit: before.lastIndexedCommit, lastIndexedAt: before.lastIndexedAt });
    expect((await query(`SELECT deleted_at FROM repos WHERE id = $1`, [repoOfA]))[0].deleted_at).toBeNull();
  });
});

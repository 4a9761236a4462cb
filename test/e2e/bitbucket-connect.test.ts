// Connect Bitbucket end to end: the real API, Temporal and PostgreSQL against the fake Bitbucket.
import { Client } from 'pg';
import { createState } from '../../src/bitbucket/oauth-state';
import { BitbucketIntegration } from '../../src/bitbucket/integration';
import { createDataSource } from '../../src/db/data-source';
import { SecretBox } from '../../src/security/secret-box';
import { DEMO, seedMany } from '../fakes/bitbucket/seed';
import { connect, followCallback, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { dumpDatabase, dumpHistories, findLeaks } from '../support/secrets-scan';
import { ADMIN_TOKEN, createAccount, startTestService, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let clockOffsetMs = 0;

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ clock: () => new Date(Date.now() + clockOffsetMs) }));
});
afterAll(() => stop?.());
beforeEach(() => {
  clockOffsetMs = 0;
  fake.setAuthorizeMode('auto-approve');
  fake.setCurrentUser(DEMO.user);
});

async function status(token: string) {
  const res = await svc.request('GET', '/v1/integrations/bitbucket', { token });
  expect(res.status).toBe(200);
  return res.body;
}

async function installationId(accountId: string): Promise<string> {
  const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
  try {
    return (await db.query(`SELECT id FROM provider_installations WHERE account_id = $1`, [accountId])).rows[0].id;
  } finally {
    await db.end();
  }
}

describe('connect', () => {
  it('connects, and the status shows the Bitbucket user', async () => {
    const { token } = await createAccount(svc);
    expect(await status(token)).toEqual({ configured: true, connected: false, needsReauth: false, bitbucketUser: null, connectedAt: null, missingScopes: [] });
    const install = await svc.request('POST', '/v1/integrations/bitbucket/install', { token });
    expect(install.body.authorizeUrl).toMatch(new RegExp(`^${fake.siteUrl}/site/oauth2/authorize\\?client_id=${fake.clientId}&response_type=code&state=`));

    const { location } = await connect(svc, token);
    expect(location).toBe('http://lettuce.test/repos?bitbucket=connected');
    const s = await status(token);
    expect(s).toEqual({
      configured: true,
      connected: true,
      needsReauth: false,
      bitbucketUser: { uuid: expect.stringMatching(/^\{.+\}$/), displayName: DEMO.displayName },
      connectedAt: expect.any(String),
      missingScopes: [],
    });
  });

  it('refuses a replayed state', async () => {
    const { token } = await createAccount(svc);
    const { location, callbackUrl } = await connect(svc, token);
    expect(location).toContain('bitbucket=connected');
    expect(await followCallback(callbackUrl)).toBe('http://lettuce.test/repos?bitbucket_error=invalid_state');
  });

  it('refuses forged, pre-rotation and expired states', async () => {
    const { token, accountId } = await createAccount(svc);
    const install = await svc.request('POST', '/v1/integrations/bitbucket/install', { token });
    const authorize = await fetch(install.body.authorizeUrl, { redirect: 'manual' });
    const callback = new URL(authorize.headers.get('location')!);
    const withState = (state: string) => {
      const u = new URL(callback);
      u.searchParams.set('state', state);
      return u.toString();
    };
    const realState = callback.searchParams.get('state')!;
    const [payload, signature] = realState.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), a: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
    expect(await followCallback(withState(`${forged}.${signature}`))).toContain('bitbucket_error=invalid_state');
    expect(await followCallback(withState('garbage'))).toContain('bitbucket_error=invalid_state');
    // signed with the admin token before it was rotated
    expect(await followCallback(withState(createState(accountId, 'the-previous-admin-token', new Date()).state))).toContain('bitbucket_error=invalid_state');
    // 16 minutes later
    clockOffsetMs = 16 * 60_000;
    expect(await followCallback(callback.toString())).toContain('bitbucket_error=invalid_state');
    // the same, unexpired, still works
    clockOffsetMs = 0;
    expect(await followCallback(callback.toString())).toBe('http://lettuce.test/repos?bitbucket=connected');
  });

  it('reports access_denied when the user denies', async () => {
    const { token } = await createAccount(svc);
    fake.setAuthorizeMode('auto-deny');
    expect((await connect(svc, token)).location).toBe('http://lettuce.test/repos?bitbucket_error=access_denied');
    expect((await status(token)).connected).toBe(false);
  });

  it('reports exchange_failed when Bitbucket refuses the code', async () => {
    const { token } = await createAccount(svc);
    const install = await svc.request('POST', '/v1/integrations/bitbucket/install', { token });
    const authorize = await fetch(install.body.authorizeUrl, { redirect: 'manual' });
    const callback = new URL(authorize.headers.get('location')!);
    callback.searchParams.set('code', 'a-code-bitbucket-never-issued');
    expect(await followCallback(callback.toString())).toBe('http://lettuce.test/repos?bitbucket_error=exchange_failed');
    expect((await status(token)).connected).toBe(false);
  });

  it('survives a token endpoint answering 503 then 429 (retried with backoff)', async () => {
    const { token } = await createAccount(svc);
    fake.injectFault({ method: 'POST', path: '/site/oauth2/access_token', status: 503 });
    fake.injectFault({ method: 'POST', path: '/site/oauth2/access_token', status: 429 });
    expect((await connect(svc, token)).location).toBe('http://lettuce.test/repos?bitbucket=connected');
  });
});

describe('not configured', () => {
  it('reports configured: false and refuses to start an install', async () => {
    const bare = await startTestService({ workers: false });
    try {
      const { token } = await createAccount(bare);
      expect((await bare.request('GET', '/v1/integrations/bitbucket', { token })).body.configured).toBe(false);
      const res = await bare.request('POST', '/v1/integrations/bitbucket/install', { token });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('bitbucket_not_configured');
    } finally {
      await bare.stop();
    }
  });
});

describe('picker', () => {
  it('lists every contributor repo across workspaces, paginated, sorted, filtered, with added flags', async () => {
    const { token, accountId } = await createAccount(svc);
    const bulk = await seedMany(fake, { count: 120, workspaces: 3, permission: 'write', prefix: 'pick' });
    fake.grant(DEMO.user, 'pick-2/repo-0005', 'read'); // member only: must be excluded
    await connect(svc, token);

    const res = await svc.request('GET', '/v1/integrations/bitbucket/repos', { token });
    expect(res.status).toBe(200);
    const names: string[] = res.body.repos.map((r: { fullName: string }) => r.fullName);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(bulk.filter((n) => n !== 'pick-2/repo-0005')));
    expect(names).not.toContain('pick-2/repo-0005');
    expect(names).toEqual(expect.arrayContaining([DEMO.repos.api, DEMO.repos.contributorOnly, DEMO.repos.hello]));
    expect(names).not.toContain(DEMO.repos.readOnly);
    expect(names.filter((n) => n.startsWith('pick-')).length).toBe(119);
    expect(res.body.message).toBeNull();
    const api = res.body.repos.find((r: { fullName: string }) => r.fullName === DEMO.repos.api);
    expect(api).toEqual({ fullName: 'acme/api', workspace: 'acme', slug: 'api', name: expect.any(String), isPrivate: true, uuid: expect.stringMatching(/^\{/), added: false });

    const filtered = await svc.request('GET', '/v1/integrations/bitbucket/repos?q=PICK-3/REPO-00', { token });
    expect(filtered.body.repos.map((r: { fullName: string }) => r.fullName)).toEqual(bulk.filter((n) => n.startsWith('pick-3/repo-00')));

    // a repo already added to the account is flagged
    const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
    await db.query(
      `INSERT INTO repos (account_id, source, source_key, name, clone_url, bitbucket_workspace, bitbucket_slug, bitbucket_uuid) VALUES ($1, 'bitbucket', 'bitbucket:acme/api', 'acme/api', 'x', 'acme', 'api', $2)`,
      [accountId, api.uuid],
    );
    await db.end();
    const again = await svc.request('GET', '/v1/integrations/bitbucket/repos?q=acme/api', { token });
    expect(again.body.repos).toEqual([{ ...api, added: true }]);
  });

  it('says so when the user has no repos at all', async () => {
    const { token } = await createAccount(svc);
    fake.addUser({ nickname: 'lonely', display_name: 'Lonely' });
    fake.setCurrentUser('lonely');
    await connect(svc, token);
    const res = await svc.request('GET', '/v1/integrations/bitbucket/repos?q=anything', { token });
    expect(res.body).toEqual({ repos: [], message: 'No repos visible in any of your workspaces' });
  });

  it('answers 409 not_connected before connecting', async () => {
    const { token } = await createAccount(svc);
    const res = await svc.request('GET', '/v1/integrations/bitbucket/repos', { token });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_connected');
  });

  it('rides out 429s and 5xx from the listing endpoints', async () => {
    const { token } = await createAccount(svc);
    await connect(svc, token);
    fake.injectFault({ path: '/2.0/user/workspaces', status: 429 });
    fake.injectFault({ path: /^\/2\.0\/repositories\/acme$/, status: 500 });
    const res = await svc.request('GET', '/v1/integrations/bitbucket/repos', { token });
    expect(res.status).toBe(200);
    expect(res.body.repos.map((r: { fullName: string }) => r.fullName)).toContain(DEMO.repos.api);
  });
});

describe('tokens', () => {
  it('with access tokens that expire in seconds, 50 concurrent needs in two processes cause exactly one refresh', async () => {
    const shortLived = await startFakeAndService({ accessTokenTtlSeconds: 5 });
    try {
      const { token, accountId } = await createAccount(shortLived.svc);
      await connect(shortLived.svc, token);
      const id = await installationId(accountId);
      // Two token services with their own in-process state, sharing PostgreSQL, as two workers would.
      const box = new SecretBox(shortLived.svc.config.tokenEncryptionKey);
      const dss = [createDataSource(process.env.TEST_DATABASE_URL!), createDataSource(process.env.TEST_DATABASE_URL!)];
      await Promise.all(dss.map((d) => d.initialize()));
      try {
        const services = dss.map((d) => new BitbucketIntegration(shortLived.svc.config, d, box).tokens);
        shortLived.fake.resetStats();
        const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => services[i % 2].getAccessToken(id)));
        expect(shortLived.fake.stats().refreshes).toBe(1);
        expect(shortLived.fake.stats().refreshFailures).toBe(0);
        expect(new Set(tokens).size).toBe(1);
        // the token works, and nothing is marked needs_reauth
        const picker = await shortLived.svc.request('GET', '/v1/integrations/bitbucket/repos', { token });
        expect(picker.status).toBe(200);
        expect((await shortLived.svc.request('GET', '/v1/integrations/bitbucket', { token })).body.needsReauth).toBe(false);
      } finally {
        await Promise.all(dss.map((d) => d.destroy()));
      }
      const metrics = await (await fetch(`${shortLived.svc.url}/metrics`)).text();
      expect(metrics).toMatch(/lettuce_token_refreshes_total\{outcome="refreshed"\} [1-9]/);
    } finally {
      await shortLived.stop();
    }
  });

  it('a revoked grant sets needsReauth, the picker answers 409, and reconnecting clears it', async () => {
    const { token } = await createAccount(svc);
    await connect(svc, token);
    expect((await svc.request('GET', '/v1/integrations/bitbucket/repos', { token })).status).toBe(200);
    fake.revokeGrants(DEMO.user);
    const res = await svc.request('GET', '/v1/integrations/bitbucket/repos', { token });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('needs_reauth');
    expect((await status(token)).needsReauth).toBe(true);
    expect((await svc.request('GET', '/v1/integrations/bitbucket/repos', { token })).body.error.code).toBe('needs_reauth');

    expect((await connect(svc, token)).location).toContain('bitbucket=connected');
    expect((await status(token)).needsReauth).toBe(false);
    expect((await svc.request('GET', '/v1/integrations/bitbucket/repos', { token })).status).toBe(200);
  });
});

describe('disconnect', () => {
  it('members cannot; owners can, and the tokens are gone from the database', async () => {
    const { token, accountId } = await createAccount(svc);
    await connect(svc, token);
    const member = await svc.request('POST', `/v1/admin/accounts/${accountId}/users`, { token: ADMIN_TOKEN, body: { email: 'm@acme.test', role: 'member' } });
    const denied = await svc.request('DELETE', '/v1/integrations/bitbucket', { token: member.body.token });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('forbidden');

    const ok = await svc.request('DELETE', '/v1/integrations/bitbucket', { token });
    expect(ok.status).toBe(204);
    const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
    expect((await db.query(`SELECT count(*)::int AS n FROM provider_installations WHERE account_id = $1`, [accountId])).rows[0].n).toBe(0);
    await db.end();
    expect((await status(token)).connected).toBe(false);
    expect((await svc.request('DELETE', '/v1/integrations/bitbucket', { token })).body.error.code).toBe('not_connected');
    expect((await svc.request('GET', '/v1/integrations/bitbucket/repos', { token })).body.error.code).toBe('not_connected');
  });
});

describe('secrets', () => {
  it('no consumer secret, code or token the fake issued is in the database or any workflow history', async () => {
    const secrets = fake.issuedSecrets();
    expect(secrets.length).toBeGreaterThan(10);
    expect(findLeaks(await dumpDatabase(), secrets)).toEqual([]);
    const { text, workflows } = await dumpHistories(`WorkflowType = 'installBitbucket'`);
    expect(workflows).toBeGreaterThan(3);
    expect(findLeaks(text, secrets)).toEqual([]);
  });
});

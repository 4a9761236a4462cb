// Checks the fake Bitbucket's JSON against Atlassian's official OpenAPI spec, read from
// ../shared/reference beside the repository (reference material: never copied into the project).
import fs from 'node:fs';
import path from 'node:path';
import { seedDemo } from '../fakes/bitbucket/seed';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { api, startReceiver } from './helpers';
import { SchemaChecker, type OpenApiDoc } from './openapi-check';

// test/fakes-tests → repo root (/work/main) → its parent holds shared/.
const SPEC = path.resolve(__dirname, '../../../shared/reference/bitbucket-cloud.openapi.json');
const specPresent = fs.existsSync(SPEC);
if (!specPresent) console.warn(`Skipping the OpenAPI shape checks of the fake Bitbucket: ${SPEC} is absent.`);
const describeIfSpec = specPresent ? describe : describe.skip;

jest.setTimeout(30_000);

// Where real Bitbucket responses themselves break the spec, the fake follows the real responses:
// - the ssh clone link is scp-like (`git@bitbucket.org:ws/slug.git`, woodpecker-ci fixture APIRepo.json),
//   not the absolute URI the spec's `format: uri` claims;
// - webhook payloads carry `project.links.self` and commit `summary.type: "rendered"` (woodpecker-ci
//   fixture HookPush.json), which the spec's project.links and summary (additionalProperties: false) do not list.
const KNOWN_DEVIATIONS = [
  /\.links\.clone\[\d+\]\.href: git@[^ ]+ is not an absolute URI$/,
  /^repository\.project\.links: unexpected property "self"$/,
  /\.summary: unexpected property "type"$/,
];
const unexpected = (errors: string[]) => errors.filter((e) => !KNOWN_DEVIATIONS.some((re) => re.test(e)));

describeIfSpec('fake Bitbucket JSON matches the official OpenAPI spec', () => {
  let checker: SchemaChecker;
  let fake: FakeBitbucket;
  let token: string;

  beforeAll(async () => {
    checker = new SchemaChecker(JSON.parse(fs.readFileSync(SPEC, 'utf8')) as OpenApiDoc);
    fake = await startFakeBitbucket();
    await seedDemo(fake);
    token = fake.issueTokens('demo').access_token;
  });

  afterAll(async () => {
    await fake?.close();
  });

  async function expectShape(schema: string, apiPath: string, init?: { method?: string; body?: unknown }, status = 200): Promise<unknown> {
    const res = await api(fake, apiPath, token, init);
    expect(res.status).toBe(status);
    expect(unexpected(checker.check(schema, res.body))).toEqual([]);
    return res.body;
  }

  test('the checker itself rejects wrong shapes', () => {
    expect(checker.check('repository', { full_name: 'a/b' })).toContain('repository: missing required "type"');
    expect(checker.check('paginated_repositories', { values: [], extra: 1 })).toContain('paginated_repositories: unexpected property "extra"');
    expect(checker.check('error', { type: 'error', error: { detail: 'x' } })).toContain('error.error: missing required "message"');
    expect(checker.check('repository', { type: 'repository', is_private: 'yes' })).toContain('repository.is_private: expected boolean, got string');
    expect(checker.check('webhook_subscription', { type: 'webhook_subscription', events: [] })).toContain('webhook_subscription.events: fewer than 1 items');
    expect(checker.check('repository', { type: 'repository', links: { clone: [{ href: 'not a uri' }] } }))
      .toContain('repository.links.clone[0].href: not a uri is not an absolute URI');
    expect(checker.check('repository', { type: 'repository', created_on: null })).toContain('repository.created_on: is null but the schema is not nullable');
  });

  test('GET /2.0/user is a user (account)', async () => {
    const body = await expectShape('user', '/user');
    expect(checker.check('account', body)).toEqual([]);
  });

  test('GET /2.0/user/workspaces is a paginated_workspace_access', async () => {
    const body = (await expectShape('paginated_workspace_access', '/user/workspaces?pagelen=2')) as { values: unknown[]; next?: string };
    expect(body.values).toHaveLength(2);
    expect(body.next).toBeDefined();
    await expectShape('paginated_workspace_access', body.next ?? '');
  });

  test('GET /2.0/workspaces/{workspace} is a workspace', async () => {
    await expectShape('workspace', '/workspaces/acme');
  });

  test('GET /2.0/repositories/{workspace} pages are paginated_repositories', async () => {
    for (const ws of ['demo', 'acme', 'oss-lab']) {
      const body = (await expectShape('paginated_repositories', `/repositories/${ws}?role=member&pagelen=2`)) as { next?: string };
      if (body.next) await expectShape('paginated_repositories', body.next);
    }
  });

  test('GET /2.0/repositories/{workspace}/{repo_slug} is a repository (private and public)', async () => {
    await expectShape('repository', '/repositories/acme/api');
    const pub = await api(fake, '/repositories/oss-lab/go-tools', token);
    // The only deviation in a repository object is the scp-like ssh link.
    expect(checker.check('repository', pub.body)).toEqual([
      `repository.links.clone[1].href: git@${new URL(fake.siteUrl).hostname}:oss-lab/go-tools.git is not an absolute URI`,
    ]);
  });

  test('hooks: webhook_subscription and paginated_webhook_subscriptions', async () => {
    const created = (await expectShape('webhook_subscription', '/repositories/acme/api/hooks',
      { method: 'POST', body: { description: 'Lettuce', url: 'https://example.com/hook', events: ['repo:push'], secret: 'x', active: true } }, 201)) as { uuid: string };
    const uid = encodeURIComponent(created.uuid);
    await expectShape('webhook_subscription', `/repositories/acme/api/hooks/${uid}`);
    await expectShape('webhook_subscription', `/repositories/acme/api/hooks/${uid}`, { method: 'PUT', body: { active: false } });
    await expectShape('paginated_webhook_subscriptions', '/repositories/acme/api/hooks');
  });

  test('workspace hooks: webhook_subscription (the workspace as subject) and paginated_webhook_subscriptions', async () => {
    const created = (await expectShape('webhook_subscription', '/workspaces/demo/hooks',
      { method: 'POST', body: { description: 'Lettuce', url: 'https://example.com/ws-hook', events: ['repo:push'], secret: 'x', active: true } }, 201)) as {
      uuid: string; subject_type: string; subject: unknown;
    };
    expect(created.subject_type).toBe('workspace');
    expect(checker.check('workspace', created.subject)).toEqual([]);
    const uid = encodeURIComponent(created.uuid);
    await expectShape('webhook_subscription', `/workspaces/demo/hooks/${uid}`);
    await expectShape('webhook_subscription', `/workspaces/demo/hooks/${uid}`, { method: 'PUT', body: { active: false } });
    const list = (await expectShape('paginated_webhook_subscriptions', '/workspaces/demo/hooks')) as { values: unknown[] };
    expect(list.values).toHaveLength(1);
    // Errors: a bad field (400), a member who is not an owner (403), a workspace the user is not in (404).
    await expectShape('error', '/workspaces/demo/hooks', { method: 'POST', body: { url: 'https://example.com', events: ['nope'] } }, 400);
    await expectShape('error', '/workspaces/acme/hooks', { method: 'POST', body: { url: 'https://example.com', events: ['repo:push'] } }, 403);
    await expectShape('error', '/workspaces/nowhere/hooks', undefined, 404);
    await expectShape('error', `/workspaces/demo/hooks/${encodeURIComponent('{00000000-0000-4000-8000-000000000000}')}`, undefined, 404);
    expect((await api(fake, `/workspaces/demo/hooks/${uid}`, token, { method: 'DELETE' })).status).toBe(204);
  });

  test('errors: 400, 401, 403, 404 and 410 bodies are error objects', async () => {
    await expectShape('error', '/repositories/acme/api/hooks', { method: 'POST', body: { url: 'https://example.com', events: [] } }, 400);
    await expectShape('error', '/repositories/acme/frontend/hooks', { method: 'POST', body: { url: 'https://example.com', events: ['repo:push'] } }, 403);
    await expectShape('error', '/repositories/nowhere', undefined, 404);
    await expectShape('error', '/workspaces', undefined, 410);
    await expectShape('error', '/repositories/acme?pagelen=500', undefined, 400);
    const unauth = await api(fake, '/user', 'bogus');
    expect(unauth.status).toBe(401);
    expect(checker.check('error', unauth.body)).toEqual([]);
  });

  test('repo:push payload parts: actor, repository, branch states and commits', async () => {
    const receiver = await startReceiver();
    try {
      await api(fake, '/repositories/demo/hello-ts/hooks', token, { method: 'POST', body: { url: receiver.url, events: ['repo:push'] } });
      await fake.commit('demo', 'hello-ts', { 'x.ts': 'export {};\n' });
      await fake.deliverPush('demo', 'hello-ts');
      const payload = JSON.parse(receiver.received[0].raw.toString('utf8')) as {
        actor: unknown; repository: unknown; push: { changes: Array<{ old: unknown; new: unknown; commits: unknown[] }> };
      };
      expect(checker.check('account', payload.actor)).toEqual([]);
      expect(unexpected(checker.check('repository', payload.repository))).toEqual([]);
      const change = payload.push.changes[0];
      expect(unexpected(checker.check('branch', change.old))).toEqual([]);
      expect(unexpected(checker.check('branch', change.new))).toEqual([]);
      expect(change.commits.length).toBeGreaterThan(0);
      for (const c of change.commits) expect(unexpected(checker.check('commit', c))).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});

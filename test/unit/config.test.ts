import { ConfigError, loadConfig } from '../../src/config';

const valid = {
  CODEWAZE_ADMIN_TOKEN: 'a-long-enough-admin-token',
  TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  TEMPORAL_ADDRESS: 'localhost:7233',
};

function errorFor(env: Record<string, string>): string {
  try {
    loadConfig({ ...valid, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig(valid);
    expect(c.publicUrl).toBe('http://localhost:8080');
    expect(c.bitbucketUrl).toBe('https://bitbucket.org');
    expect(c.bitbucketApiUrl).toBe('https://api.bitbucket.org/2.0');
    expect(c.temporal.namespace).toBe('default');
    expect(c.port).toBe(8080);
    expect(c.gitAllowPrivateHosts).toBe(false);
    expect(c.webUi).toBe(true);
    expect(c.bitbucket).toBeNull();
    expect(c.worker.taskQueues).toEqual(['lettuce-control', 'lettuce-indexing']);
    expect(c.tokenEncryptionKey).toHaveLength(32);
    expect(c.repoReconcileIntervalMs).toBe(10 * 60_000);
    expect(c.maxRepoSizeBytes).toBe(2 * 1024 ** 3);
  });

  it.each([
    ['500m', 500 * 1024 ** 2],
    ['2g', 2 * 1024 ** 3],
    ['1024k', 1024 ** 2],
    ['1.5G', 1.5 * 1024 ** 3],
    ['750MB', 750 * 1024 ** 2],
    ['1048576', 1024 ** 2],
    ['0', 0],
  ])('reads MAX_REPO_SIZE=%s', (value, bytes) => {
    expect(loadConfig({ ...valid, MAX_REPO_SIZE: value }).maxRepoSizeBytes).toBe(bytes);
  });

  it.each([
    ['900/1h', { calls: 900, windowMs: 3_600_000 }],
    ['60/1m', { calls: 60, windowMs: 60_000 }],
    [' 5 / 10s ', { calls: 5, windowMs: 10_000 }],
  ])('reads BITBUCKET_REST_BUDGET=%s', (value, budget) => {
    expect(loadConfig({ ...valid, BITBUCKET_REST_BUDGET: value }).bitbucketRestBudget).toEqual(budget);
  });

  it('defaults BITBUCKET_REST_BUDGET to 900 calls an hour (Bitbucket allows the consumer 1,000)', () => {
    expect(loadConfig(valid).bitbucketRestBudget).toEqual({ calls: 900, windowMs: 3_600_000 });
  });

  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['2500ms', 2_500],
    ['0', 0],
  ])('reads REPO_RECONCILE_INTERVAL=%s', (value, ms) => {
    expect(loadConfig({ ...valid, REPO_RECONCILE_INTERVAL: value }).repoReconcileIntervalMs).toBe(ms);
  });

  it.each([
    ['PORT', 'eighty', /^Invalid configuration: PORT /],
    ['PORT', '70000', /^Invalid configuration: PORT /],
    ['CODEWAZE_PUBLIC_URL', 'not a url', /^Invalid configuration: CODEWAZE_PUBLIC_URL /],
    ['DATABASE_URL', 'mysql://x', /^Invalid configuration: DATABASE_URL /],
    ['TEMPORAL_ADDRESS', 'no-port', /^Invalid configuration: TEMPORAL_ADDRESS /],
    ['GIT_ALLOW_PRIVATE_HOSTS', 'maybe', /^Invalid configuration: GIT_ALLOW_PRIVATE_HOSTS /],
    ['WEB_UI', 'off', /^Invalid configuration: WEB_UI must be true or false/],
    ['TOKEN_ENCRYPTION_KEY', 'c2hvcnQ=', /^Invalid configuration: TOKEN_ENCRYPTION_KEY must be 32 bytes/],
    ['WORKER_TASK_QUEUES', 'lettuce-control,other', /^Invalid configuration: WORKER_TASK_QUEUES /],
    ['REPO_RECONCILE_INTERVAL', '10', /^Invalid configuration: REPO_RECONCILE_INTERVAL must be a duration such as 30s, 10m or 1h/],
    ['REPO_RECONCILE_INTERVAL', 'soon', /^Invalid configuration: REPO_RECONCILE_INTERVAL /],
    ['WORKSPACE_SYNC_INTERVAL', '5', /^Invalid configuration: WORKSPACE_SYNC_INTERVAL must be a duration such as 30s, 10m or 1h/],
    ['REPO_RECONCILE_INTERVAL', '200ms', /^Invalid configuration: REPO_RECONCILE_INTERVAL /],
    ['BITBUCKET_REST_BUDGET', '900', /^Invalid configuration: BITBUCKET_REST_BUDGET must be calls per window such as 900\/1h/],
    ['BITBUCKET_REST_BUDGET', '0/1h', /^Invalid configuration: BITBUCKET_REST_BUDGET /],
    ['BITBUCKET_REST_BUDGET', '900/2d', /^Invalid configuration: BITBUCKET_REST_BUDGET /],
    ['MAX_REPO_SIZE', 'huge', /^Invalid configuration: MAX_REPO_SIZE must be a size such as 500m, 2g or 1024k/],
    ['MAX_REPO_SIZE', '-1g', /^Invalid configuration: MAX_REPO_SIZE /],
    ['MAX_REPO_SIZE', '2 gigabytes', /^Invalid configuration: MAX_REPO_SIZE /],
    ['MAX_REPO_SIZE', '500', /^Invalid configuration: MAX_REPO_SIZE .*at least 1m/],
    ['MAX_REPO_SIZE', '2x', /^Invalid configuration: MAX_REPO_SIZE /],
  ])('rejects a bad %s with one line naming it', (name, value, pattern) => {
    const message = errorFor({ [name]: value });
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });

  it('never echoes a secret value in the error', () => {
    const secretish = 'c2VjcmV0LXZhbHVlLXRoYXQtaXMtd3Jvbmc=';
    expect(errorFor({ TOKEN_ENCRYPTION_KEY: secretish })).not.toContain(secretish);
    expect(errorFor({ BITBUCKET_APP_CLIENT_SECRET: 'top-secret-value' })).not.toContain('top-secret-value');
  });

  it('requires both halves of the OAuth consumer', () => {
    expect(errorFor({ BITBUCKET_APP_CLIENT_ID: 'key' })).toMatch(/BITBUCKET_APP_CLIENT_SECRET must be set/);
    expect(errorFor({ BITBUCKET_APP_CLIENT_SECRET: 'secret' })).toMatch(/BITBUCKET_APP_CLIENT_ID must be set/);
    const c = loadConfig({ ...valid, BITBUCKET_APP_CLIENT_ID: 'key', BITBUCKET_APP_CLIENT_SECRET: 'secret' });
    expect(c.bitbucket).toEqual({ clientId: 'key', clientSecret: 'secret' });
  });

  it('names a missing required variable', () => {
    const { CODEWAZE_ADMIN_TOKEN: _omit, ...rest } = valid;
    expect(() => loadConfig(rest)).toThrow(/^Invalid configuration: CODEWAZE_ADMIN_TOKEN is required/);
  });

  it('treats empty strings as unset and strips trailing slashes', () => {
    const c = loadConfig({ ...valid, BITBUCKET_APP_CLIENT_ID: '', BITBUCKET_APP_CLIENT_SECRET: '', CODEWAZE_PUBLIC_URL: 'https://lettuce.example/' });
    expect(c.bitbucket).toBeNull();
    expect(c.publicUrl).toBe('https://lettuce.example');
  });
});

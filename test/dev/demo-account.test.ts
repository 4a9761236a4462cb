// The sandbox's demo account: made once through the admin API, its token kept under DATA_DIR
// (mode 0600), found again by the next run instead of making a second account.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_TOKEN_FILE, ensureDemoAccount } from '../../src/dev/demo-account';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service';
import { usersWithEmail } from './users-with-email';

let svc: TestService;
let dataDir: string;

beforeAll(async () => {
  svc = await startTestService({ workers: false });
});
afterAll(() => svc?.stop());
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lettuce-demo-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const email = () => `demo-${crypto.randomBytes(4).toString('hex')}@example.test`;

it('makes the account once and finds it again on the next run', async () => {
  const opts = { apiUrl: svc.url, adminToken: ADMIN_TOKEN, dataDir, email: email() };
  const first = await ensureDemoAccount(opts);
  expect(first.created).toBe(true);
  expect(first.file).toBe(path.join(dataDir, DEMO_TOKEN_FILE));
  expect(fs.readFileSync(first.file, 'utf8').trim()).toBe(first.token);
  expect(fs.statSync(first.file).mode & 0o777).toBe(0o600);
  const me = await svc.request('GET', '/v1/me', { token: first.token });
  expect(me.status).toBe(200);
  expect(me.body.user).toMatchObject({ email: opts.email, role: 'owner' });

  const second = await ensureDemoAccount(opts);
  expect(second).toMatchObject({ created: false, token: first.token, email: opts.email, accountName: 'Demo' });

  expect(await usersWithEmail(opts.email)).toBe(1);
});

it('makes a new account when the kept token is unknown (the database was reset)', async () => {
  fs.writeFileSync(path.join(dataDir, DEMO_TOKEN_FILE), 'lt_not-a-token-of-this-database\n', { mode: 0o644 });
  const demo = await ensureDemoAccount({ apiUrl: svc.url, adminToken: ADMIN_TOKEN, dataDir, email: email() });
  expect(demo.created).toBe(true);
  expect(fs.readFileSync(demo.file, 'utf8').trim()).toBe(demo.token);
  expect(fs.statSync(demo.file).mode & 0o777).toBe(0o600);
  expect((await svc.request('GET', '/v1/me', { token: demo.token })).status).toBe(200);
});

// `npm run sandbox` as a person runs it (the compiled entry point, a real child process): the fake
// Bitbucket and the service wired to it, the sign-in line first, Ctrl-C stopping all of it, and a
// second run reusing the demo account. The run's PostgreSQL and Temporal stand in for the embedded
// ones (their start is covered by postgres-placement.test.ts and by `npm start` itself).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, portAcceptsConnections } from '../../src/dev/processes';
import { startServiceProcess, type ServiceProcess } from '../support/worker-process';
import { usersWithEmail } from './users-with-email';

let dataDir: string;
let env: Record<string, string>;
let apiPort: number;
let fakePort: number;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(process.env.TEST_TMP_DIR!, 'sandbox-'));
  [apiPort, fakePort] = [await freePort(), await freePort()];
  env = {
    PATH: process.env.PATH ?? '',
    NODE_PATH: path.resolve(__dirname, '../../node_modules'),
    HOME: process.env.HOME ?? '/tmp',
    DATA_DIR: dataDir,
    PORT: String(apiPort),
    FAKE_BITBUCKET_PORT: String(fakePort),
    DATABASE_URL: process.env.TEST_DATABASE_URL!,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    LETTUCE_TASK_QUEUE_PREFIX: `t${crypto.randomBytes(4).toString('hex')}-`,
    WORKFLOW_BUNDLE_PATH: process.env.TEST_WORKFLOW_BUNDLE!,
    WORKER_SHUTDOWN_GRACE_SECONDS: '1',
  };
});

async function runSandbox(): Promise<{ proc: ServiceProcess; token: string; summary: string[] }> {
  const proc = await startServiceProcess('test/fakes/bitbucket/sandbox.js', 'Press Ctrl-C to stop.', env);
  const lines = proc.output().split('\n');
  const summary = lines.slice(lines.indexOf('') + 1); // after the blank line that ends the start-up lines
  const token = /^Open http:\/\/localhost:\d+\/ and sign in with the API token (\S+)$/.exec(summary[0])?.[1];
  if (!token) throw new Error(`no sign-in line first:\n${proc.output()}`);
  return { proc, token, summary };
}

async function ctrlC(proc: ServiceProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
  proc.child.kill('SIGINT');
  return exited;
}

it('starts the fake Bitbucket and the service wired to it, says where to sign in, stops on Ctrl-C, and reuses its account', async () => {
  const api = `http://127.0.0.1:${apiPort}`;
  const first = await runSandbox();
  try {
    expect(first.summary[0]).toBe(`Open http://localhost:${apiPort}/ and sign in with the API token ${first.token}`);
    expect(first.summary.join('\n')).toContain('made now');
    const me = await fetch(`${api}/v1/me`, { headers: { authorization: `Bearer ${first.token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: 'demo@example.test', role: 'owner' }, account: { name: 'Demo' } });
    const tokenFile = path.join(dataDir, 'demo-api-token');
    expect(fs.readFileSync(tokenFile, 'utf8').trim()).toBe(first.token);
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);

    // Wired to the fake: Connect sends the browser to its authorize page, with its consumer and our callback.
    const install = await fetch(`${api}/v1/integrations/bitbucket/install`, { method: 'POST', headers: { authorization: `Bearer ${first.token}` } });
    const authorize = new URL(((await install.json()) as { authorizeUrl: string }).authorizeUrl);
    expect(authorize.origin).toBe(`http://127.0.0.1:${fakePort}`);
    expect(authorize.searchParams.get('client_id')).toBe('fake-client-id');
    const page = await fetch(authorize, { redirect: 'manual' });
    expect(page.status).toBe(200); // the fake's consent page: the callback it registered is ours
    expect(await page.text()).toContain('Grant access');
  } finally {
    expect(await ctrlC(first.proc)).toBe(0);
  }
  expect(first.proc.output().trimEnd().split('\n').slice(-1)).toEqual(['Stopped.']);
  expect(await portAcceptsConnections(apiPort)).toBe(false);
  expect(await portAcceptsConnections(fakePort)).toBe(false);

  const second = await runSandbox();
  try {
    expect(second.token).toBe(first.token);
    expect(second.summary.join('\n')).toContain('made by an earlier run');
    expect(await usersWithEmail('demo@example.test')).toBe(1);
  } finally {
    expect(await ctrlC(second.proc)).toBe(0);
  }
}, 180_000);

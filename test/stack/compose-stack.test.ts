// `npm run test:stack`: docker-compose.yml's topology as processes (src/stack) — the Temporal server
// 1.30.1 built from its Go module on PostgreSQL, both one-shot set-up jobs, the migration job, the
// API and three workers as uid 1000 — driven as users and operators drive production: the seed
// flow against the fake Bitbucket, a worker killed mid-index, every worker stopped in turn under a
// push load, Temporal and PostgreSQL restarted mid-run, the one-shot jobs run a second time, and the
// Temporal UI published on another origin.
import { DEMO } from '../fakes/bitbucket/seed';
import { connect } from '../support/bitbucket';
import { isReadyAt } from '../support/repos';
import { ADMIN_TOKEN, createAccount } from '../support/service';
import { manyFiles, waitForRepoThroughOutage } from '../faults/support/harness';
import { UI_ORIGIN, startStackUnderTest, type StackUnderTest } from './stack-under-test';

jest.setTimeout(10 * 60_000);

let t: StackUnderTest;
let token: string;
let accountId: string;
/** Repo ids by full name, as the seed flow added them. */
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startStackUnderTest({ workers: 3, env: { REPO_RECONCILE_INTERVAL: '1m' }, say: (line) => process.stdout.write(`${line}\n`) });
  ({ token, accountId } = await createAccount(t.api));
}, 30 * 60_000);
afterAll(() => t?.stop());

const workspace = 'acme';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function push(full: string, n: number): Promise<string> {
  const [ws, slug] = full.split('/');
  const head = await t.fake.commit(ws, slug, { [`pushes/${n}.txt`]: `push number ${n} marker${n}x\n` }, { message: `push ${n}` });
  await t.fake.deliverPush(ws, slug);
  return head;
}

/** Pushes round-robin to `repos` every `everyMs` until stopped; the last head of each repo is kept. */
function pushLoad(repos: string[], everyMs: number) {
  const heads: Record<string, string> = {};
  let n = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const full = repos[n % repos.length];
      heads[full] = await push(full, 1000 + n++);
      await sleep(everyMs);
    }
  })();
  return {
    heads,
    count: () => n,
    stop: async () => {
      running = false;
      await loop;
      return heads;
    },
  };
}

async function allAtHeads(heads: Record<string, string>, timeoutMs: number) {
  for (const [full, head] of Object.entries(heads)) await waitForRepoThroughOutage(t.api, token, ids[full], isReadyAt(head), timeoutMs);
}

it('runs every service of the compose file, mapping only host names, paths and images', () => {
  const running = t.stack.pids().map((p) => p.name);
  expect(running).toEqual(expect.arrayContaining(['postgres', 'temporal', 'api', 'worker-1', 'worker-2', 'worker-3']));
  expect(t.said.join('\n')).toMatch(/mapped: host postgres → 127\.0\.0\.1 \(DATABASE_URL\)/);
  expect(t.said.join('\n')).toMatch(/mapped: host temporal → 127\.0\.0\.1 \(TEMPORAL_ADDRESS\)/);
  // The one-shot jobs ran and exited 0 before the app started.
  for (const job of ['temporal-admin-tools', 'temporal-setup', 'migrate']) expect(t.stack.replicas(job)[0].exits).toEqual([0]);
});

it('the seed flow: connect Bitbucket, pick a repo, one webhook, indexed, re-indexed on push, searchable', async () => {
  expect((await connect(t.api, token)).location).toContain('bitbucket=connected');
  const picker = await t.api.request('GET', '/v1/integrations/bitbucket/repos', { token });
  expect(picker.status).toBe(200);
  expect(JSON.stringify(picker.body)).toContain(DEMO.repos.api);
  const added = await t.api.request('POST', '/v1/repos', { token, body: { bitbucket: DEMO.repos.api } });
  expect(added.status).toBe(202);
  ids[DEMO.repos.api] = added.body.repo.id;
  await waitForRepoThroughOutage(t.api, token, ids[DEMO.repos.api], isReadyAt(await t.fake.headOf(workspace, 'api')), 180_000);
  expect(t.fake.hooksOf(workspace, 'api').filter((h) => h.url.endsWith(accountId))).toHaveLength(1);

  const head = await push(DEMO.repos.api, 1);
  await waitForRepoThroughOutage(t.api, token, ids[DEMO.repos.api], isReadyAt(head), 120_000);
  const found = await t.api.request('GET', `/v1/repos/${ids[DEMO.repos.api]}/search?q=marker1x`, { token });
  expect(found.status).toBe(200);
  expect(JSON.stringify(found.body)).toContain('pushes/1.txt');
});

it("links the Temporal UI at its published origin, and its codec server answers that origin's CORS", async () => {
  const admin = await t.api.request('GET', `/v1/admin/repos/${ids[DEMO.repos.api]}`, { token: ADMIN_TOKEN });
  expect(admin.status).toBe(200);
  expect(admin.body.temporalUiUrl.startsWith(`${UI_ORIGIN}/`)).toBe(true);
  const preflight = (origin: string) =>
    t.api.request('OPTIONS', '/codec/decode', { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' } });
  expect((await preflight(UI_ORIGIN)).headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  expect((await preflight('http://localhost:8233')).headers.get('access-control-allow-origin')).toBeNull();
  // The payloads Temporal holds are sealed (TEMPORAL_PAYLOAD_KEY), and the codec server opens them for the UI.
  const history = await t.temporal.workflow.getHandle(`repo:${ids[DEMO.repos.api]}`).fetchHistory();
  const started = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
  expect(Buffer.from(started.metadata!.encoding!).toString()).toBe('binary/encrypted');
  const toJson = (p: typeof started) => ({ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(p.data!).toString('base64') });
  const decoded = await t.api.request('POST', '/codec/decode', { token: ADMIN_TOKEN, headers: { origin: UI_ORIGIN, 'x-namespace': 'default' }, body: { payloads: [toJson(started)] } });
  expect([decoded.status, decoded.headers.get('access-control-allow-origin')]).toEqual([200, UI_ORIGIN]);
  expect(Buffer.from(decoded.body.payloads[0].data, 'base64').toString()).toContain(ids[DEMO.repos.api]);
});

it('a worker killed (kill -9) mid-index: another worker finishes the repo, complete, with one webhook', async () => {
  const FILES = 40_000; // an index of several seconds: long enough to be caught under way (8,000 took 1.2 s)
  await t.fake.addRepo({ workspace, slug: 'big', files: manyFiles(FILES), owner: DEMO.user });
  const added = await t.api.request('POST', '/v1/repos', { token, body: { bitbucket: `${workspace}/big` } });
  expect(added.status).toBe(202);
  const id = (ids[`${workspace}/big`] = added.body.repo.id);
  const handle = t.temporal.workflow.getHandle(`repo:${id}`);
  // Some files indexed, not all: the index is under way on one worker.
  await waitForRepoThroughOutage(t.api, token, id, (r) => r.progress?.filesDone > 0, 120_000);
  const identity = (await handle.describe()).raw.pendingActivities?.find((a) => a.lastWorkerIdentity)?.lastWorkerIdentity ?? '';
  const victim = t.stack.replicas('worker').find((p) => identity.startsWith(`${p.pid}@`));
  expect(victim).toBeDefined();
  const killedAt = Date.now();
  victim!.kill('SIGKILL');
  await waitForRepoThroughOutage(t.api, token, id, isReadyAt(await t.fake.headOf(workspace, 'big')), 180_000);
  process.stdout.write(`kill -9 of ${victim!.spec.name} mid-index → ready ${((Date.now() - killedAt) / 1000).toFixed(1)} s later\n`);
  expect(t.fake.hooksOf(workspace, 'big').filter((h) => h.url.endsWith(accountId))).toHaveLength(1);
  // Every file indexed: the last one is found.
  const n = String(FILES - 1).padStart(5, '0'); // as manyFiles names them
  const last = await t.api.request('GET', `/v1/repos/${id}/search?q=needle_${n}`, { token });
  expect(last.body.results.map((r: { path: string }) => r.path)).toContain(`src/gen/m${Math.floor((FILES - 1) / 100)}/file_${n}.ts`);
  // The index that finished ran on another process than the one killed; compose's restart policy brought that one back.
  const starts = (await handle.fetchHistory()).events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.identity);
  expect(starts[starts.length - 1]).not.toBe(identity);
  expect(victim!.restarts).toBeGreaterThanOrEqual(1);
});

it('every worker SIGTERMed in turn under a push load: no push lost', async () => {
  const repos = [DEMO.repos.api, `${workspace}/big`];
  const load = pushLoad(repos, 400);
  for (const worker of t.stack.replicas('worker')) {
    const before = worker.restarts;
    worker.kill('SIGTERM');
    for (const deadline = Date.now() + 90_000; (worker.restarts === before || !worker.pid) && Date.now() < deadline; ) await sleep(200);
    expect(worker.exits[worker.exits.length - 1]).toBe(0); // a graceful shutdown, not a crash
    expect(worker.pid).not.toBeNull();
    await sleep(3_000);
  }
  const heads = await load.stop();
  expect(load.count()).toBeGreaterThan(10);
  await allAtHeads(heads, 180_000);
  const failed = t.fake.deliveries().filter((d) => typeof d.status !== 'number' || d.status >= 300);
  expect(failed).toEqual([]);
});

it('Temporal restarted, then PostgreSQL restarted, mid-run: every repo ends at its pushed head', async () => {
  const repos = [DEMO.repos.api, `${workspace}/big`];
  const load = pushLoad(repos, 500);
  await sleep(2_000);
  await t.stack.restart('temporal');
  await sleep(3_000);
  await t.stack.restart('postgres');
  await sleep(3_000);
  const heads = await load.stop();
  // Pushes after the restarts, as users keep pushing: the final heads must all be indexed.
  for (const full of repos) heads[full] = await push(full, 9000 + repos.indexOf(full));
  await allAtHeads(heads, 240_000);
  const ready = await fetch(`${t.stack.apiUrl}/readyz`);
  expect(ready.status).toBe(200);
  // The API rode out both restarts without being restarted itself.
  expect(t.stack.replicas('api')[0].restarts).toBe(0);
});

it('a second `docker compose up`: the one-shot jobs run again and change nothing', async () => {
  expect(await t.stack.rerunOneShots()).toEqual(['temporal-admin-tools', 'temporal-setup', 'migrate']);
  const reindex = await t.api.request('POST', `/v1/repos/${ids[DEMO.repos.api]}/reindex`, { token });
  expect(reindex.status).toBe(202);
  const head = await push(DEMO.repos.api, 99);
  await waitForRepoThroughOutage(t.api, token, ids[DEMO.repos.api], isReadyAt(head), 120_000);
  const list = await t.api.request('GET', '/v1/repos', { token });
  expect(list.body.repos.map((r: { status: string }) => r.status)).toEqual(['ready', 'ready']);
});

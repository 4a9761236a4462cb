// Whole-workspace benchmark (`npm run bench:workspace`, CONTRACT §13): a workspace of REPOS small
// repos at the fake Bitbucket, which enforces the real limit's shape scaled down (1,000 REST calls a
// minute per OAuth consumer, the service's budget BITBUCKET_REST_BUDGET=900/1m), on the service laid
// out as docker-compose.yml deploys it (API, control worker, indexing worker: processes of their own,
// with their own PostgreSQL and Temporal dev server). In one run, side by side:
//   1. today's path, the baseline: BASELINE repos added one by one through POST /v1/repos;
//   2. an owner syncs the whole workspace (one workspace webhook);
//   3. a plain member (repo admin on each repo, not a workspace owner) syncs it (a hook per repo),
//      while the picker is timed for that account and for a second one.
// Printed: REST calls spent by kind, 429s drawn, time to all ready, orchestration per repo beyond
// its clone+index (against the same clones and indexes done directly, in this run), peak RSS of
// each process, and the sync workflow's history length. Figures only; no assertion.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { openDatabase } from '../src/db/data-source';
import { freePort } from '../src/dev/processes';
import { bitbucketTokenCredentials } from '../src/git/credentials';
import { syncRepo } from '../src/git/repo-sync';
import { indexCommit } from '../src/indexer';
import { seedWorkspace } from '../test/fakes/bitbucket/seed';
import { startFakeBitbucket, type FakeBitbucket } from '../test/fakes/bitbucket/server';
import { serviceEnvFor } from '../test/fakes/bitbucket/service-env';
import { ADMIN_TOKEN, benchEnv, cpuSecondsOf, fmtMs, loadAverage, median, pct, postgresPid, printReport, requestJson, runBench, say, startBenchServers, startNode, startWorkerNode, type Row } from './support';

const REPOS = Number(process.env.BENCH_REPOS ?? 1000);
const BASELINE = Number(process.env.BENCH_BASELINE_REPOS ?? 100);
const DIRECT_SAMPLE = Math.min(REPOS, Number(process.env.BENCH_DIRECT_SAMPLE ?? 100));
const INDEX_SLOTS = 2; // the indexing worker's maxConcurrentActivityTaskExecutions
const LIMIT = { calls: 1000, windowMs: 60_000 };
const BUDGET = '900/1m';

/** RSS of a process and its descendants (the indexing worker's parse processes), in MB. */
function rssTreeMb(rootPid: number): number {
  const parents = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  let kb = 0;
  const visit = (pid: number) => {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch { /* gone */ }
    for (const [child, parent] of parents) if (parent === pid) visit(child);
  };
  visit(rootPid);
  return kb / 1024;
}

/** Peak RSS per process while `fn` runs, sampled every 250 ms. */
async function withPeakRss<T>(pids: Record<string, number>, fn: () => Promise<T>): Promise<{ result: T; peakMb: Record<string, number> }> {
  const peakMb: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) peakMb[name] = Math.max(peakMb[name], rssTreeMb(pid));
  };
  const timer = setInterval(sample, 250);
  try {
    sample();
    return { result: await fn(), peakMb };
  } finally {
    clearInterval(timer);
    sample();
  }
}

/** Counted REST calls at the fake by route, since its last resetStats. */
function restByRoute(fake: FakeBitbucket): { listing: number; hooks: number; lookups: number; other: number; total: number } {
  const r = fake.stats().requests;
  const sum = (pred: (key: string) => boolean) => Object.entries(r).filter(([k]) => pred(k)).reduce((n, [, c]) => n + c, 0);
  const listing = sum((k) => k === 'GET /2.0/repositories/{workspace}');
  const hooks = sum((k) => k.includes('/hooks'));
  const lookups = sum((k) => k === 'GET /2.0/repositories/{workspace}/{repo_slug}');
  return { listing, hooks, lookups, other: fake.stats().restCallsTotal - listing - hooks - lookups, total: fake.stats().restCallsTotal };
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function main(): Promise<void> {
  say(`Workspace bench: ${REPOS} repos; the fake enforces ${LIMIT.calls} REST calls a minute per consumer, BITBUCKET_REST_BUDGET=${BUDGET}; baseline ${BASELINE} repos added one by one. Load average: ${loadAverage()}.`);
  const servers = await startBenchServers('workspace');
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', restLimit: LIMIT });
  const stops: Array<() => Promise<void>> = [servers.stop, () => fake.close()];
  try {
    const seedStarted = performance.now();
    fake.addUser({ nickname: 'owner', display_name: 'Org Owner' });
    fake.addUser({ nickname: 'member', display_name: 'Plain Member' });
    fake.addUser({ nickname: 'onebyone', display_name: 'Baseline User' });
    const names = await seedWorkspace(fake, { workspace: 'bigorg', count: REPOS, owner: 'owner', members: [{ nickname: 'member', permission: 'admin' }] });
    const baselineNames = await seedWorkspace(fake, { workspace: 'clicks', count: BASELINE, owner: 'onebyone' });
    say(`seeded ${REPOS + BASELINE} repos in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

    const port = await freePort();
    const env = benchEnv(servers, { ...serviceEnvFor(fake, port), BITBUCKET_REST_BUDGET: BUDGET, WORKSPACE_SYNC_INTERVAL: '10m' });

    // Direct clone+index of a sample, INDEX_SLOTS at a time: what the repos cost without orchestration.
    const ds = await openDatabase(servers.pg.url);
    const [{ id: baseAccount }] = await ds.query(`INSERT INTO accounts (name, webhook_secret) VALUES ('direct', 'x') RETURNING id`);
    const credentials = bitbucketTokenCredentials(fake.issueTokens('owner').access_token);
    const sample = names.slice(0, DIRECT_SAMPLE);
    const directStarted = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: INDEX_SLOTS }, async () => {
      while (next < sample.length) {
        const name = sample[next++];
        const [{ id }] = await ds.query(`INSERT INTO repos (account_id, source, source_key, name, clone_url, default_branch) VALUES ($1, 'url', $2, $3, $4, 'main') RETURNING id`, [baseAccount, `direct:${name}`, name, `${fake.siteUrl}/${name}.git`]);
        const dir = path.join(servers.dir, 'direct', `${id}.git`);
        const { head } = await syncRepo({ dir, url: `${fake.siteUrl}/${name}.git`, branch: 'main', credentials, timeoutMs: 120_000 });
        await indexCommit(ds, { repoId: id, gitDir: dir, commit: head });
      }
    }));
    const directPerRepoMs = (performance.now() - directStarted) / sample.length; // wall time per repo with INDEX_SLOTS in parallel
    await ds.query(`DELETE FROM repos WHERE account_id = $1`, [baseAccount]);
    await ds.destroy();

    const svc = { url: `http://127.0.0.1:${port}` };
    const pids: Record<string, number> = { PostgreSQL: postgresPid(servers), Temporal: servers.temporal!.pid };
    for (const queue of ['lettuce-control', 'lettuce-indexing']) {
      const worker = await startWorkerNode(env, queue);
      stops.unshift(worker.stop);
      pids[queue === 'lettuce-control' ? 'control worker' : 'indexing worker'] = worker.child.pid!;
    }
    const api = await startNode('src/api/main.js', env, `${svc.url}/healthz`);
    stops.unshift(api.stop);
    pids.API = api.child.pid!;
    fake.setCallbackUrl(`${svc.url}/v1/integrations/bitbucket/callback`);
    const connectAs = async (nickname: string) => {
      fake.setCurrentUser(nickname);
      const account = await requestJson('POST', `${svc.url}/v1/admin/accounts`, ADMIN_TOKEN, { name: nickname, ownerEmail: `${nickname}-${crypto.randomBytes(3).toString('hex')}@bench.test` });
      const token = account.body.token as string;
      const install = await requestJson('POST', `${svc.url}/v1/integrations/bitbucket/install`, token);
      const authorize = await fetch(install.body.authorizeUrl, { redirect: 'manual' });
      const callback = await fetch(authorize.headers.get('location')!, { redirect: 'manual' });
      if (!callback.headers.get('location')?.includes('bitbucket=connected')) throw new Error(`connect failed: ${callback.headers.get('location')}`);
      return token;
    };
    const repoStates = async (token: string, prefix: string) => ((await requestJson('GET', `${svc.url}/v1/repos`, token)).body.repos as any[]).filter((r) => r.name.startsWith(prefix));
    const until = async <T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30 * 60_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await read();
        if (done(v)) return v;
        if (Date.now() > deadline) throw new Error(`${what}: not done within ${timeoutMs / 60_000} minutes`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const cpuNow = (): Record<string, number> => ({ ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)])), 'fake Bitbucket + bench': (process.cpuUsage().user + process.cpuUsage().system) / 1e6 });
    const cpuSince = (before: Record<string, number>) => Object.entries(cpuNow()).map(([name, sec]) => `${name} ${(sec - before[name]).toFixed(1)}`).join(', ');
    const callsOf = async () => ({ user: await metricValue(svc.url, 'lettuce_bitbucket_rest_calls_total{kind="user"}'), background: await metricValue(svc.url, 'lettuce_bitbucket_rest_calls_total{kind="background"}') });

    // 1. Today's path: one POST per repo.
    const clicksToken = await connectAs('onebyone');
    fake.resetStats();
    let calls0 = await callsOf();
    let cpu0 = cpuNow();
    const clicks = await withPeakRss(pids, async () => {
      const started = Date.now();
      for (const name of baselineNames) {
        const res = await requestJson('POST', `${svc.url}/v1/repos`, clicksToken, { bitbucket: name });
        if (res.status !== 202) throw new Error(`add failed: ${res.status} ${JSON.stringify(res.body)}`);
      }
      await until('baseline ready', () => repoStates(clicksToken, 'clicks/'), (rs) => rs.length === BASELINE && rs.every((r) => (r.status === 'ready' || r.status === 'failed') && r.webhook.status !== 'none'));
      return Date.now() - started;
    });
    const clicksRest = restByRoute(fake);
    let calls1 = await callsOf();
    const clicksKinds = { user: calls1.user - calls0.user, background: calls1.background - calls0.background };
    const clicks429 = fake.stats().rateLimited;
    const clicksCpu = cpuSince(cpu0);

    // 2. An owner syncs the workspace.
    const ownerToken = await connectAs('owner');
    fake.resetStats();
    calls0 = await callsOf();
    cpu0 = cpuNow();
    const owner = await withPeakRss(pids, async () => {
      const started = Date.now();
      const res = await requestJson('POST', `${svc.url}/v1/integrations/bitbucket/workspaces`, ownerToken, { workspace: 'bigorg' });
      if (res.status !== 202) throw new Error(`sync failed: ${res.status} ${JSON.stringify(res.body)}`);
      const firstCounts = res.body.workspace.repos;
      const ws = await until('owner sync', async () => (await requestJson('GET', `${svc.url}/v1/integrations/bitbucket/workspaces/bigorg`, ownerToken)).body.workspace, (w) => w.status === 'synced' && w.repos.total === REPOS);
      return { ms: Date.now() - started, ws, firstCounts };
    });
    const ownerRest = restByRoute(fake);
    calls1 = await callsOf();
    const ownerKinds = { user: calls1.user - calls0.user, background: calls1.background - calls0.background };
    const owner429 = fake.stats().rateLimited;
    const ownerCpu = cpuSince(cpu0);
    const ownerHooks = fake.workspaceHooksOf('bigorg').length;

    // 3. A plain member syncs it (repo hooks), the picker timed meanwhile for it and for the owner's account.
    const memberToken = await connectAs('member');
    fake.resetStats();
    calls0 = await callsOf();
    cpu0 = cpuNow();
    const pickerMs: number[] = [];
    const pickerOtherMs: number[] = [];
    const member = await withPeakRss(pids, async () => {
      const started = Date.now();
      const res = await requestJson('POST', `${svc.url}/v1/integrations/bitbucket/workspaces`, memberToken, { workspace: 'bigorg' });
      if (res.status !== 202) throw new Error(`sync failed: ${res.status} ${JSON.stringify(res.body)}`);
      let pickerFailures = 0;
      let ready = 0;
      const ws = await until('member sync', async () => {
        const picker = await requestJson('GET', `${svc.url}/v1/integrations/bitbucket/repos`, memberToken);
        const other = await requestJson('GET', `${svc.url}/v1/integrations/bitbucket/repos?q=clicks`, clicksToken);
        pickerMs.push(picker.ms);
        pickerOtherMs.push(other.ms);
        if (picker.status !== 200 || other.status !== 200) pickerFailures++;
        await new Promise((r) => setTimeout(r, 5000)); // a person opening the Add dialog now and then
        const w = (await requestJson('GET', `${svc.url}/v1/integrations/bitbucket/workspaces/bigorg`, memberToken)).body.workspace;
        if (w.repos.ready === REPOS && !ready) ready = Date.now() - started;
        return w;
      }, (w) => w.status === 'synced' && w.repos.total === REPOS && (w.webhook.status === 'active' || w.webhook.status === 'failed'));
      return { ms: Date.now() - started, readyMs: ready || Date.now() - started, ws, pickerFailures };
    });
    const memberRest = restByRoute(fake);
    calls1 = await callsOf();
    const memberKinds = { user: calls1.user - calls0.user, background: calls1.background - calls0.background };
    const member429 = fake.stats().rateLimited;
    const memberCpu = cpuSince(cpu0);
    const memberHooks = names.filter((n) => fake.hooksOf('bigorg', n.split('/')[1]).some((h) => h.url.includes(svc.url) || h.url.includes('/v1/webhooks/bitbucket'))).length;

    // History of the sync workflows (their current runs; each run is one sync cycle, then continue-as-new).
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: 'default' });
    const historyOf = async (query: string) => {
      const lengths: number[] = [];
      let runs = 0;
      for await (const run of client.workflow.list({ query })) {
        runs++;
        lengths.push((await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events?.length ?? 0);
      }
      return { runs, longest: Math.max(0, ...lengths) };
    };
    const ownerHistory = await historyOf(`WorkflowType = "workspaceSync" AND LettuceWorkspace = "bigorg" AND ExecutionStatus != "Running"`);
    const runningHistory = await historyOf(`WorkflowType = "workspaceSync" AND ExecutionStatus = "Running"`);
    await connection.close();

    const ownerCalls = ownerRest.total;
    const ownerTarget = Math.ceil(REPOS / 100) + 5;
    const ownerOrch = (owner.result.ms - directPerRepoMs * REPOS) / REPOS;
    const clicksOrch = (clicks.result - directPerRepoMs * BASELINE) / BASELINE;
    // The sync's own calls (background); the picker calls the bench makes meanwhile are user calls.
    const memberPerRepo = memberKinds.background / REPOS;
    const rss = (peak: Record<string, number>) => Object.entries(peak).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
    const rows: Row[] = [
      { figure: `owner: REST calls to register ${REPOS} repos and cover them with a webhook`, value: `${ownerCalls} (listing ${ownerRest.listing}, hooks ${ownerRest.hooks}, lookups ${ownerRest.lookups}, other ${ownerRest.other})`, target: `<= ${ownerTarget}`, baseline: `${clicksRest.total} for ${BASELINE} repos one by one (${(clicksRest.total / BASELINE).toFixed(2)}/repo)`, met: ownerCalls <= ownerTarget },
      { figure: 'owner: 429s drawn', value: String(owner429), target: '0', baseline: `${clicks429} one by one`, met: owner429 === 0 },
      { figure: `owner: time until all ${REPOS} ready (webhook: ${ownerHooks} workspace hook)`, value: `${(owner.result.ms / 1000).toFixed(1)} s`, target: '<= 180 s', baseline: `${(clicks.result / 1000).toFixed(1)} s for ${BASELINE} one by one`, met: owner.result.ms <= 180_000 },
      { figure: 'owner: orchestration per repo beyond its clone+index', value: fmtMs(ownerOrch), target: '<= 50 ms', baseline: `${fmtMs(clicksOrch)} one by one; direct clone+index ${fmtMs(directPerRepoMs)}/repo (${INDEX_SLOTS} at a time, ${DIRECT_SAMPLE} sampled)`, met: ownerOrch <= 50 },
      { figure: `member: the sync's REST calls per repo (${memberKinds.background} background; at the fake, with the picker's: listing ${memberRest.listing}, hooks ${memberRest.hooks}, lookups ${memberRest.lookups})`, value: memberPerRepo.toFixed(2), target: '<= 2.1', baseline: `${(clicksRest.total / BASELINE).toFixed(2)} one by one`, met: memberPerRepo <= 2.1 },
      { figure: 'member: 429s drawn', value: String(member429), target: '0', met: member429 === 0 },
      { figure: `member: all ${REPOS} ready / every repo hooked (${memberHooks} hooks)`, value: `${(member.result.readyMs / 1000).toFixed(1)} s / ${(member.result.ms / 1000).toFixed(1)} s` },
      { figure: 'picker during the member sync, p50 / max (the member; a second account)', value: `${fmtMs(median(pickerMs))} / ${fmtMs(Math.max(...pickerMs))}; ${fmtMs(median(pickerOtherMs))} / ${fmtMs(Math.max(...pickerOtherMs))}`, target: '<= 1000 ms', met: Math.max(...pickerMs, ...pickerOtherMs) <= 1000 && member.result.pickerFailures === 0 },
      { figure: 'REST calls by kind (service metrics): one by one / owner / member', value: `user ${clicksKinds.user}, bg ${clicksKinds.background} / user ${ownerKinds.user}, bg ${ownerKinds.background} / user ${memberKinds.user}, bg ${memberKinds.background}` },
      { figure: 'workspace-sync history: finished runs (longest) / running (longest)', value: `${ownerHistory.runs} (${ownerHistory.longest} events) / ${runningHistory.runs} (${runningHistory.longest} events)` },
      { figure: 'peak RSS MB: one by one', value: rss(clicks.peakMb) },
      { figure: 'peak RSS MB: owner sync', value: rss(owner.peakMb) },
      { figure: 'peak RSS MB: member sync', value: rss(member.peakMb) },
    ];
    printReport('Whole workspaces', rows, [
      `The owner's counts right after the POST: ${JSON.stringify(owner.result.firstCounts)} (progress visible from the start).`,
      `Member sync: ${memberKinds.background} calls at ${BUDGET} take at least ${(memberKinds.background / 900).toFixed(1)} windows; at Bitbucket's real 1,000/h and the default 900/1h, ${REPOS} repos synced by a member take about ${((2 * REPOS) / 900).toFixed(1)} h for their webhooks (indexing does not wait: git is not a REST call).`,
      `Where the CPU went (seconds per process): one by one: ${clicksCpu}.`,
      `  owner sync: ${ownerCpu}.`,
      `  member sync: ${memberCpu}.`,
      `CPU seconds at the end: ${Object.entries(pids).map(([k, pid]) => `${k} ${cpuSecondsOf(pid).toFixed(1)}`).join(', ')}. Load average: ${loadAverage()}. p95 picker ${fmtMs(pct(pickerMs, 95))}.`,
    ]);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

runBench(main);
